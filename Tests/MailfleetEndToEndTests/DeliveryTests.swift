import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// End-to-end: the real executables, real Postgres and Redis, the simulator as provider.
@Suite(.serialized) struct DeliveryTests {
    func batchBody(count: Int, offset: Int = 0, tag: String = "e2e") -> String {
        let items = (0..<count).map { i in
            #"{"from":"Sender <sender@example.com>","to":["user\#(offset + i)@example.com"],"subject":"Hello \#(offset + i)","text":"Hi there","html":"<p>Hi there</p>","metadata":{"tag":"\#(tag)"}}"#
        }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }

    @Test func thousandMessagesAreDeliveredExactlyOnceAndMarkedSent() async throws {
        let fleet = try await Fleet.start("thousand", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        // Ten batch requests of 100, sent concurrently.
        var ids: [String] = []
        try await withThrowingTaskGroup(of: [String].self) { group in
            for r in 0..<10 {
                group.addTask {
                    let response = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 100, offset: r * 100))
                    #expect(response.status == 202)
                    let body = Fleet.object(response)
                    #expect(body["accepted"] as? Int == 100)
                    return (body["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                }
            }
            for try await batch in group { ids += batch }
        }
        #expect(Set(ids).count == 1000)
        let allSent = try await fleet.eventually(seconds: 120) { try await fleet.count(status: "sent") == 1000 }
        #expect(allSent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 1000)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
        #expect(stats["recipients"] as? Int == 1000)
        // Batching: far fewer calls than messages.
        let calls = (stats["calls"] as? [String: Int])?["sendgrid"] ?? 0
        #expect(calls > 0 && calls < 100)
        // The API shows the outcome with its history.
        let shown = try await fleet.api("GET", "/v1/messages/\(ids[0])")
        #expect(shown.status == 200)
        let body = Fleet.object(shown)
        #expect(body["status"] as? String == "sent")
        #expect((body["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["accepted", "sent"])
        // Metrics are exposed with our prefix, by the workers together: bulk gathered into full
        // calls may all have gone through one of them.
        var workerMetrics = ""
        for port in fleet.workerPorts {
            workerMetrics += try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyString
        }
        #expect(workerMetrics.contains("mailfleet_messages_sent_total"))
        #expect(workerMetrics.contains("mailfleet_provider_call_duration_seconds_bucket"))
        let apiMetrics = try await fleet.http.execute(HTTPRequest(url: fleet.apiURL + "/metrics"))
        #expect(apiMetrics.bodyString.contains("mailfleet_messages_accepted_total 1000"))
        let schedulerMetrics = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(fleet.schedulerPort)/metrics"))
        #expect(schedulerMetrics.bodyString.contains("mailfleet_queue_depth"))
    }

    @Test func outboxWritesAnEmlFileForASingleSend() async throws {
        let fleet = try await Fleet.start("outbox", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let response = try await fleet.api("POST", "/v1/messages", json: #"{"from":"Demo <demo@example.com>","to":["you@example.com"],"subject":"Hello from Mailfleet","text":"It works.","html":"<p>It <b>works</b>.</p>"}"#)
        #expect(response.status == 202)
        let id = try #require(Fleet.object(response)["id"] as? String)
        let sent = try await fleet.eventually(seconds: 30) {
            Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))["status"] as? String == "sent"
        }
        #expect(sent)
        let path = "\(fleet.outboxDir)/\(id).eml"
        let eml = try String(contentsOfFile: path, encoding: .utf8)
        #expect(eml.contains("Subject: Hello from Mailfleet\r\n"))
        #expect(eml.contains("To: you@example.com\r\n"))
        #expect(eml.contains("Message-ID: <\(id)@"))
    }

    @Test func aBatchWhoseProviderFailsMovesToTheNextAccountInTheSameRound() async throws {
        let fleet = try await Fleet.start("failover", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox", "--priority", "20"])
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5)).status == 202)
        let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 5 }
        #expect(sent)
        // The first account was called and failed; the second sent every message on the first
        // attempt, so nothing was deferred.
        let stats = try await fleet.simStats()
        #expect((stats["rejected_calls"] as? Int ?? 0) >= 1)
        #expect(stats["unique_messages"] as? Int == 0)
        let files = try FileManager.default.contentsOfDirectory(atPath: fleet.outboxDir).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 5)
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") == 0)
        #expect(try await fleet.pool.query("SELECT max(attempts) AS n FROM messages").first!.int("n") == 1)
    }

    @Test func anAccountWhoseCircuitOpensIsSkippedWithoutBeingCalled() async throws {
        let fleet = try await Fleet.start("breaker", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox", "--priority", "20"])
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        // One request at a time, each sent before the next: every round has a call for the
        // simulator to fail, until the default breaker (5 calls, 50 % failed) opens.
        let requests = 10
        for request in 0..<requests {
            #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5, offset: request * 5)).status == 202)
            let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == (request + 1) * 5 }
            try #require(sent)
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: fleet.outboxDir).filter { $0.hasSuffix(".eml") }
        #expect(files.count == requests * 5)
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") == 0)

        let metrics = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(fleet.workerPorts[0])/metrics")).bodyString
        let rounds = try #require(Self.sample(metrics, "mailfleet_worker_round_duration_seconds_count"))
        // `calls` counts every call per provider kind, failed ones included.
        let calls = try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +)
        // The breaker stopped the calls: after it opened, rounds went to the outbox directly.
        #expect(calls >= 5)
        #expect(Double(calls) < rounds)
        #expect(calls < requests)
        #expect(Self.sample(metrics, "mailfleet_provider_circuit_state", labels: [#"account="sim""#]) == 1)
        #expect(Self.sample(metrics, "mailfleet_provider_circuit_transitions_total", labels: [#"account="sim""#, #"state="open""#]) ?? 0 >= 1)
    }

    /// The value of the first sample of metric `name` carrying every one of `labels` in a
    /// Prometheus text exposition.
    static func sample(_ exposition: String, _ name: String, labels: [String] = []) -> Double? {
        exposition.split(separator: "\n")
            .first { line in (line.hasPrefix(name + " ") || line.hasPrefix(name + "{")) && labels.allSatisfy { line.contains($0) } }
            .flatMap { $0.split(separator: " ").last }
            .flatMap { Double($0) }
    }

    @Test func workerFinishesItsBatchOnSIGTERMBeforeExiting() async throws {
        let fleet = try await Fleet.start("sigterm", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try await fleet.simControl(#"{"latency_ms":3000}"#)
        let response = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 20))
        #expect(response.status == 202)
        let inFlight = try await fleet.eventually(seconds: 30) { (try await fleet.simStats()["inflight"] as? Int ?? 0) >= 1 }
        #expect(inFlight)
        let worker = try #require(fleet.process("worker-0"))
        worker.terminate()
        await fleet.waitForExit(worker, seconds: 30)
        #expect(worker.terminationStatus == 0)
        // The batch in flight completed and was recorded before the worker left.
        #expect(try await fleet.count(status: "sent") == 20)
        #expect(try await fleet.count(status: "sending") == 0)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 20)
    }

    @Test func scheduledSendsWaitUntilDue() async throws {
        let fleet = try await Fleet.start("scheduled", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        let due = Date().addingTimeInterval(3)
        let response = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"Later","text":"x","send_at":"\#(ISO8601.format(due))"}"#)
        #expect(response.status == 202)
        // Until shortly before it is due, the message stays queued.
        let waited = try await fleet.holds(until: due.addingTimeInterval(-1)) { try await fleet.count(status: "queued") == 1 }
        #expect(waited)
        let sent = try await fleet.eventually(seconds: 20) { try await fleet.count(status: "sent") == 1 }
        #expect(sent)
        let sentAt = try await fleet.pool.query("SELECT sent_at FROM messages").first!.date("sent_at")
        #expect(sentAt >= due.addingTimeInterval(-0.5))
    }

    @Test func retryableFailuresAreRetriedWithBackoff() async throws {
        let fleet = try await Fleet.start("retry", workers: 1, provider: .sendgrid, environment: ["MAILFLEET_RETRY_BASE_SECONDS": "1"])
        defer { fleet.stopNow() }
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        let response = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5))
        #expect(response.status == 202)
        let deferred = try await fleet.eventually(seconds: 30) {
            try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") >= 5
        }
        #expect(deferred)
        try await fleet.simControl("{}")
        let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 5 }
        #expect(sent)
        let attempts = try await fleet.pool.query("SELECT min(attempts) AS n FROM messages").first!.int("n")
        #expect(attempts >= 2)
    }

    @Test func aKilledWorkersLeaseIsReclaimedAndItsMessagesSent() async throws {
        let fleet = try await Fleet.start("reclaim", workers: 1, provider: .sendgrid, environment: ["MAILFLEET_LEASE_SECONDS": "4"])
        defer { fleet.stopNow() }
        try await fleet.simControl(#"{"latency_ms":2000}"#)
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 30)).status == 202)
        let inFlight = try await fleet.eventually(seconds: 30) { (try await fleet.simStats()["inflight"] as? Int ?? 0) >= 1 }
        #expect(inFlight)
        let victim = try #require(fleet.process("worker-0"))
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        // What the dead worker had in flight may still reach the provider; once those calls end,
        // `unique_messages` is what it delivered. Only those may be delivered twice.
        let settled = try await fleet.eventually(seconds: 30) { (try await fleet.simStats()["inflight"] as? Int ?? 0) == 0 }
        #expect(settled)
        let deliveredByTheDead = try await fleet.simStats()["unique_messages"] as? Int ?? 0
        try await fleet.simControl("{}")
        try await fleet.startWorker(1, environment: ["MAILFLEET_LEASE_SECONDS": "4"])
        let sent = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 30 }
        #expect(sent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 30)
        #expect((stats["duplicate_deliveries"] as? Int ?? -1) <= deliveredByTheDead)
    }

    @Test func aRedisFlushLosesNothing() async throws {
        // No worker yet: the messages wait in Redis, which then loses everything (a failover to
        // an empty replica). Postgres still holds them as queued; reconciliation re-enqueues.
        let environment = ["MAILFLEET_RECONCILE_AFTER_SECONDS": "1", "MAILFLEET_RECONCILE_EVERY_SECONDS": "1"]
        let fleet = try await Fleet.start("redisflush", workers: 0, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 25)).status == 202)
        try fleet.flushRedis()
        try await fleet.startWorker(0, environment: environment)
        let sent = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 25 }
        #expect(sent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 25)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
    }

    @Test func aRedisFlushIsNoticedAndRefilledWithoutWaitingForTheReconcileAge() async throws {
        // The default reconcile age (300 s): only the scheduler noticing the missing generation
        // marker moves these messages within the minute waited for below.
        let fleet = try await Fleet.start("redisloss", workers: 0, provider: .sendgrid)
        defer { fleet.stopNow() }
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 40)).status == 202)
        try fleet.flushRedis()
        try await fleet.startWorker(0)
        let sent = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 40 }
        #expect(sent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 40)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
    }

    @Test func anSMTPRecipientRefusalIsRecordedWhileTheOthersGetTheMessage() async throws {
        let server = try SMTPTestServer()
        defer { server.stop() }
        let fleet = try await Fleet.start("smtp-refusal", workers: 1, provider: .smtp, smtpServer: server)
        defer { fleet.stopNow() }
        let three = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["one@example.com","reject550-two@example.com"],"cc":["three@example.com"],"subject":"Hi","text":"x","metadata":{"n":"3"}}"#)
        let alone = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["reject550-only@example.com"],"subject":"Hi","text":"x"}"#)
        #expect(three.status == 202 && alone.status == 202)
        let threeID = try #require(Fleet.object(three)["id"] as? String)
        let aloneID = try #require(Fleet.object(alone)["id"] as? String)
        let done = try await fleet.eventually(seconds: 60) {
            let sent = try await fleet.count(status: "sent")
            let failed = try await fleet.count(status: "failed")
            return sent == 1 && failed == 1
        }
        #expect(done)

        // Sent to the two that took it; the refused recipient is in the message's history.
        let shown = Fleet.object(try await fleet.api("GET", "/v1/messages/\(threeID)"))
        #expect(shown["status"] as? String == "sent")
        let events = shown["events"] as? [[String: Any]] ?? []
        #expect(Set(events.compactMap { $0["type"] as? String }) == ["accepted", "bounced", "sent"])
        let bounce = try #require(events.first { $0["type"] as? String == "bounced" }?["detail"] as? [String: String])
        #expect(bounce["recipient"] == "reject550-two@example.com")
        #expect(bounce["code"] == "550")
        #expect(bounce["permanent"] == "true")
        #expect(bounce["reply"]?.contains("mailbox unavailable") == true)
        // A permanent refusal is a hard bounce: the address is suppressed at once.
        let suppression = try await fleet.api("GET", "/v1/suppressions/reject550-two@example.com")
        #expect(suppression.status == 200 && Fleet.object(suppression)["reason"] as? String == "bounce")
        let stats = try await server.stats()
        #expect(stats["messages"] as? Int == 1)
        #expect(stats["recipients"] as? Int == 2)
        let variables = stats["variables"] as? [String: [String: String]] ?? [:]
        #expect(variables["three@example.com"]?["mailfleet_message_id"] == threeID)

        // The only recipient refused for good: the message failed, with the server's reply.
        let failed = Fleet.object(try await fleet.api("GET", "/v1/messages/\(aloneID)"))
        #expect(failed["status"] as? String == "failed")
        #expect((failed["last_error"] as? String)?.contains("reject550-only@example.com 550") == true)
    }
}
