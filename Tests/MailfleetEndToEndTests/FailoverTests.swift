import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// End-to-end: what a throttled, open or missing provider account does to the messages that
/// need it. Waits that are not the message's fault count no attempt and never fail it.
@Suite(.serialized) struct FailoverTests {
    func batchBody(count: Int, offset: Int = 0) -> String {
        let items = (0..<count).map { i in
            #"{"from":"Sender <sender@example.com>","to":["user\#(offset + i)@example.com"],"subject":"Hello \#(offset + i)","text":"Hi there"}"#
        }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }

    func ids(_ response: HTTPResponse) -> [String] {
        (Fleet.object(response)["messages"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func metrics(_ fleet: Fleet) async throws -> String {
        try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(fleet.workerPorts[0])/metrics")).bodyString
    }

    func attempts(_ fleet: Fleet) async throws -> (min: Int, max: Int) {
        let row = try await fleet.pool.query("SELECT min(attempts) AS lo, max(attempts) AS hi FROM messages").first!
        return (try row.int("lo"), try row.int("hi"))
    }

    @Test func a429OnTheOnlyAccountPacesItAndCountsNoAttempt() async throws {
        let fleet = try await Fleet.start("paced", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":429,"retry_after":5}"#)
        let first = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5))
        #expect(first.status == 202)
        let waiting = try await fleet.eventually(seconds: 30) {
            try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") >= 5
        }
        try #require(waiting)
        // Sent while the account is paced: the worker does not call it, the messages wait too.
        let callsBefore = try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +)
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5, offset: 5)).status == 202)
        let skipped = try await fleet.eventually(seconds: 10) {
            DeliveryTests.sample(try await metrics(fleet), "mailfleet_provider_paced_total", labels: [#"account="sim""#]) ?? 0 >= 1
        }
        #expect(skipped)
        #expect(try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +) == callsBefore)

        // Shown as waiting: queued, no attempt, the pace as the reason.
        let shown = Fleet.object(try await fleet.api("GET", "/v1/messages/\(ids(first)[0])"))
        #expect(shown["status"] as? String == "queued")
        #expect(shown["attempts"] as? Int == 0)
        #expect((shown["last_error"] as? String)?.contains("paced sim until") == true)
        // Still throttled for a while: nothing fails, nothing counts an attempt.
        let held = try await fleet.holds(until: Date().addingTimeInterval(4)) {
            let failed = try await fleet.count(status: "failed")
            let most = try await attempts(fleet).max
            return failed == 0 && most == 0
        }
        #expect(held)
        let exposition = try await metrics(fleet)
        #expect(DeliveryTests.sample(exposition, "mailfleet_messages_waiting_total") ?? 0 >= 10)
        #expect(DeliveryTests.sample(exposition, "mailfleet_messages_deferred_total") ?? 0 == 0)

        try await fleet.simControl("{}")
        let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 10 }
        #expect(sent)
        // The one call that took them is the only attempt each made.
        #expect(try await attempts(fleet) == (1, 1))
        #expect(try await fleet.simStats()["unique_messages"] as? Int == 10)
    }

    @Test func a429OnTheFirstAccountMovesTheBatchToTheNextAtOnce() async throws {
        let fleet = try await Fleet.start("paced-failover", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox", "--priority", "20"])
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":429,"retry_after":60}"#)
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5)).status == 202)
        let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 5 }
        try #require(sent)
        let calls = try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +)
        #expect(calls >= 1)
        // The next batch skips the paced account without calling it.
        #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 5, offset: 5)).status == 202)
        let sentToo = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 10 }
        #expect(sentToo)
        #expect(try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +) == calls)
        #expect(DeliveryTests.sample(try await metrics(fleet), "mailfleet_provider_paced_total", labels: [#"account="sim""#]) ?? 0 >= 1)
        // Every message went through the second account in the round that met the 429.
        let files = try FileManager.default.contentsOfDirectory(atPath: fleet.outboxDir).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 10)
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM events WHERE type = 'deferred'").first!.int("n") == 0)
        #expect(try await attempts(fleet) == (1, 1))
        // A 429 is throttling, not an outage: the breaker stays closed.
        #expect(DeliveryTests.sample(try await metrics(fleet), "mailfleet_provider_circuit_transitions_total", labels: [#"account="sim""#]) == nil)
    }

    @Test func aTenantWithNoAccountIsHeldAndSentOnceOneIsAdded() async throws {
        let fleet = try await Fleet.start("held", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        let tenant = try fleet.cli(["tenants", "create", "--name", "no-account"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let key = try fleet.cli(["keys", "create", "--tenant", tenant, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let response = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 3), key: key)
        #expect(response.status == 202)
        let id = try #require(ids(response).first)
        let heldWithReason = try await fleet.eventually(seconds: 30) {
            Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)", key: key))["last_error"] as? String == FailoverPlan.noAccountReason
        }
        try #require(heldWithReason)
        let shown = Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)", key: key))
        #expect(shown["status"] as? String == "queued")
        #expect(shown["attempts"] as? Int == 0)
        // Looked at again and held again, never failed.
        let stillHeld = try await fleet.holds(until: Date().addingTimeInterval(12)) {
            let failed = try await fleet.count(status: "failed")
            let most = try await attempts(fleet).max
            return failed == 0 && most == 0
        }
        #expect(stillHeld)

        try fleet.cli(["providers", "add", "--tenant", tenant, "--name", "outbox", "--kind", "outbox", "--priority", "10"])
        let sent = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 3 }
        #expect(sent)
        #expect(try await attempts(fleet) == (1, 1))
        let files = try FileManager.default.contentsOfDirectory(atPath: fleet.outboxDir).filter { $0.hasSuffix(".eml") }
        #expect(files.count == 3)
    }

    @Test func theBreakerThresholdsAreTheWorkersSettings() async throws {
        // Two failed calls open it (the default needs five), for a minute. One lane, so a
        // request's two messages cannot be fetched by two lanes that both call before either
        // records its failure (which would make three calls, rightly).
        let fleet = try await Fleet.start(
            "breaker-settings", workers: 1, provider: .sendgrid,
            environment: ["MAILFLEET_CIRCUIT_MINIMUM_CALLS": "2", "MAILFLEET_CIRCUIT_OPEN_BASE_MS": "60000", "MAILFLEET_WORKER_LANES": "1"])
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox", "--priority", "20"])
        try await fleet.simControl(#"{"error_rate":1.0,"error_status":503}"#)
        for request in 0..<6 {
            #expect(try await fleet.api("POST", "/v1/messages", json: batchBody(count: 2, offset: request * 2)).status == 202)
            let sent = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == (request + 1) * 2 }
            try #require(sent)
        }
        #expect(try #require(try await fleet.simStats()["calls"] as? [String: Int]).values.reduce(0, +) == 2)
        #expect(DeliveryTests.sample(try await metrics(fleet), "mailfleet_provider_circuit_state", labels: [#"account="sim""#]) == 1)
    }

    @Test func aBadBreakerSettingStopsTheWorkerAtStart() throws {
        guard let bin = ProcessInfo.processInfo.environment["MAILFLEET_BIN_DIR"] else { throw FleetError("run ./ops/test") }
        for (variable, text) in [("MAILFLEET_CIRCUIT_FAILURE_RATE", "150"), ("MAILFLEET_CIRCUIT_WINDOW", "0"), ("MAILFLEET_RETRY_MAX_AGE_HOURS", "soon")] {
            let worker = Process()
            worker.executableURL = URL(fileURLWithPath: "\(bin)/mailfleet-worker")
            worker.environment = ProcessInfo.processInfo.environment.merging([variable: text]) { _, new in new }
            let errors = Pipe()
            worker.standardError = errors
            worker.standardOutput = FileHandle.nullDevice
            try worker.run()
            let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            worker.waitUntilExit()
            #expect(worker.terminationStatus == 64, "\(variable)=\(text)")
            #expect(message.contains("\(variable)=\(text)"))
        }
    }
}
