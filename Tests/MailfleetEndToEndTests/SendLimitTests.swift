import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// Fleet-wide send limits end to end (docs/FLOW.md): three workers hold a provider account to
/// its messages per second; a mailbox provider's cap holds its recipients while others go; a
/// warm-up cap reached makes the rest wait, never fail.
@Suite(.serialized) struct SendLimitTests {
    /// Messages per second in each whole second of `times` between `from` and `to` (epoch seconds).
    static func perSecond(_ times: [Double], from: Double, to: Double) -> [Int] {
        var buckets = [Int](repeating: 0, count: max(0, Int(to - from)))
        for time in times where time >= from && time < from + Double(buckets.count) { buckets[Int(time - from)] += 1 }
        return buckets
    }

    /// Accepts `count` messages from `from` to the addresses `to(i)`, 1,000 per request.
    static func sendBatch(_ fleet: Fleet, count: Int, from: String = "app@example.com", to: (Int) -> String) async throws -> [String] {
        var ids: [String] = []
        var start = 0
        while start < count {
            let end = min(count, start + 1_000)
            let items = (start..<end).map { #"{"from":"\#(from)","to":["\#(to($0))"],"subject":"s","text":"t","priority":"bulk"}"# }
            let answer = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(items.joined(separator: ","))]}"#)
            #expect(answer.status == 202 || answer.status == 207)
            let accepted = (Fleet.object(answer)["messages"] as? [[String: Any]]) ?? []
            ids += accepted.compactMap { $0["id"] as? String }.map { $0.lowercased() }
            start = end
        }
        return ids
    }

    @Test func threeWorkersHoldAnAccountToItsMessagesPerSecond() async throws {
        let limit = 200
        let fleet = try await Fleet.start("rate-limit", workers: 3, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "update", "--tenant", fleet.tenantID, "--account", "sim", "--config", "messages_per_second=\(limit)"])
        // A backlog of 18 s at the limit, so the window below is all steady state.
        let ids = try await Self.sendBatch(fleet, count: 3_600) { "reader\($0)@example.net" }
        #expect(ids.count == 3_600)
        #expect(try await fleet.eventually(seconds: 30) { try await fleet.simArrivals().count >= 2_800 })
        let times = try await fleet.simArrivals().values.sorted()
        let first = try #require(times.first)
        // Skip the first two seconds (the burst and the workers' start) and stop before the backlog ends.
        let buckets = Self.perSecond(times, from: first + 2, to: first + 12)
        let rate = Double(buckets.reduce(0, +)) / Double(buckets.count)
        print("send limit \(limit)/s, three workers, per second over a steady 10 s window: \(buckets), mean \(rate)")
        #expect(abs(rate - Double(limit)) <= 0.05 * Double(limit), "mean \(rate)/s over \(buckets)")
        // No second strays far: a batch crossing a second's edge moves a few messages, never a burst.
        #expect(buckets.allSatisfy { abs($0 - limit) <= limit / 4 }, "\(buckets)")
        #expect(try await fleet.count(status: "failed") == 0)
        // The messages held waited without an attempt counted, and the workers say why they waited.
        #expect(try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 3_600 })
        let attempts = try await fleet.pool.query("SELECT max(attempts) AS n FROM messages").first!.int("n")
        #expect(attempts == 1)
        var held = 0.0
        for port in fleet.workerPorts {
            let text = try await fleet.metrics(port: port)
            for line in text.split(separator: "\n") where line.hasPrefix(#"mailfleet_messages_held_total{reason="account_rate"}"#) {
                held += Double(line.split(separator: " ").last ?? "0") ?? 0
            }
        }
        print("messages held by the account's rate (claimed, then put back to wait): \(Int(held)) for 3,600 sent")
        #expect(held > 0)
    }

    @Test func aMailboxProviderCapAndAWarmUpCapHoldOnlyTheirMail() async throws {
        let fleet = try await Fleet.start("mailbox-warmup", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        // Google 20/s for this tenant; news.example warming up with 5 today.
        let limits = try fleet.cli(["tenants", "set-limits", "--tenant", fleet.tenantID, "--mailbox-rate", "google=20", "--json"])
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(limits.utf8)) as? [String: Any])
        #expect((shown["mailbox_rates"] as? [[String: Any]])?.first { $0["provider"] as? String == "google" }?["messages_per_second"] as? Int == 20)
        try fleet.cli(["tenants", "warmup", "start", "--tenant", fleet.tenantID, "--domain", "News.Example", "--schedule", "5,10"])

        let gmail = try await Self.sendBatch(fleet, count: 160) { "reader\($0)@gmail.com" }
        let other = try await Self.sendBatch(fleet, count: 160) { "reader\($0)@example.net" }
        let warming = try await Self.sendBatch(fleet, count: 8, from: "news@news.example") { "fan\($0)@example.org" }
        #expect(try await fleet.eventually(seconds: 60) { try await fleet.simArrivals().count >= 325 })
        let arrivals = try await fleet.simArrivals()
        let gmailTimes = gmail.compactMap { arrivals[$0] }.sorted()
        let otherTimes = other.compactMap { arrivals[$0] }.sorted()
        #expect(gmailTimes.count == 160 && otherTimes.count == 160)
        // The other mail is not held behind Google's: it is all in well before Google's is done.
        #expect(otherTimes.last! < gmailTimes[120])
        // Google's mail goes at its cap after the first burst: never over it (5 % for the edges of
        // the span), and not far under (its held messages come back spread, so some tokens go unused).
        let steady = gmailTimes.dropFirst(20)
        let span = steady.last! - steady.first!
        let rate = Double(steady.count - 1) / span
        print("google capped at 20/s: \(steady.count) messages over \(span) s, \(rate)/s")
        #expect(rate <= 21 && rate >= 16, "\(rate)/s")

        // Warm-up: exactly today's cap went; the rest wait (queued, no attempt, the reason named).
        let warmSent = warming.filter { arrivals[$0] != nil }
        #expect(warmSent.count == 5)
        let waiting = try #require(warming.first { arrivals[$0] == nil })
        let status = Fleet.object(try await fleet.api("GET", "/v1/messages/\(waiting)"))
        #expect(status["status"] as? String == "queued" || status["status"] as? String == "sending")
        #expect(status["attempts"] as? Int == 0)
        #expect((status["last_error"] as? String)?.contains("warm-up of news.example") == true)
        #expect(try await fleet.count(status: "failed") == 0)

        // Progress in the API and the CLI.
        let report = Fleet.object(try await fleet.api("GET", "/v1/limits"))
        let warmup = try #require((report["warmups"] as? [[String: Any]])?.first)
        #expect(warmup["domain"] as? String == "news.example")
        #expect(warmup["day"] as? Int == 1 && warmup["cap_today"] as? Int == 5 && warmup["sent_today"] as? Int == 5)
        let listed = try fleet.cli(["tenants", "warmup", "list", "--tenant", fleet.tenantID, "--json"])
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(listed.utf8)) as? [[String: Any]])
        #expect(rows.first?["sent_today"] as? Int == 5)
        // Stopping the warm-up ends its cap.
        try fleet.cli(["tenants", "warmup", "stop", "--tenant", fleet.tenantID, "--domain", "news.example"])
        let after = try fleet.cli(["tenants", "warmup", "list", "--tenant", fleet.tenantID, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(after.utf8)) as? [Any])?.isEmpty == true)
        // A bad limit is refused with a clear message.
        #expect(throws: (any Error).self) { try fleet.cli(["tenants", "set-limits", "--tenant", fleet.tenantID, "--mailbox-rate", "hotmail=5"]) }
        #expect(throws: (any Error).self) { try fleet.cli(["providers", "update", "--tenant", fleet.tenantID, "--account", "sim", "--config", "messages_per_second=fast"]) }
    }

    @Test func aTenantHeldByItsOwnRateWaitsInTheQueueWhileAnotherTenantsBulkGoesAtFullSpeed() async throws {
        let fleet = try await Fleet.start("tenant-hold", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        let a = fleet.tenantID
        try fleet.cli(["tenants", "set-limits", "--tenant", a, "--messages-per-second", "5"])
        let b = try fleet.cli(["tenants", "create", "--name", "tenant-hold-b"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let keyB = try fleet.cli(["keys", "create", "--tenant", b, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try fleet.addProvider(.sendgrid, tenant: b)
        // A's backlog, in the bulk lane of every partition: more than the first rounds claim
        // (a full fetch per lane) before A's limit holds them, so A's lists stay long.
        let aIDs = try await Self.sendBatch(fleet, count: 10_000) { "a\($0)@example.net" }
        #expect(aIDs.count == 10_000)
        // Past A's first rounds (its burst, and the rounds that claimed a whole turn before A was held).
        #expect(try await fleet.eventually(seconds: 60) { try await fleet.simArrivals().count >= 10 })
        // Then B's bulk joins the same lane.
        let posted = Date().timeIntervalSince1970
        let items = (0..<1_000).map { #"{"from":"b@example.com","to":["b\#($0)@example.net"],"subject":"s","text":"t","priority":"bulk"}"# }
        let answer = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(items.joined(separator: ","))]}"#, key: keyB)
        #expect(answer.status == 202)
        let bIDs = Set(((Fleet.object(answer)["messages"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String }.map { $0.lowercased() })
        #expect(bIDs.count == 1_000)
        #expect(try await fleet.eventually(seconds: 90) { try await fleet.simArrivals().count(where: { bIDs.contains($0.key) }) == 1_000 })
        let arrivals = try await fleet.simArrivals()
        let lastB = try #require(bIDs.compactMap { arrivals[$0] }.max())
        // Counted, not timed: while B's 1,000 went out, A sent no more than a few seconds of its
        // limit. With A held in the lane instead (fetches shrunk to a message or two, pauses of
        // up to 250 ms), B's mail went a few messages per round: seen 14 s, A sending 64 meanwhile.
        let aDuring = aIDs.compactMap { arrivals[$0] }.filter { $0 > posted && $0 <= lastB }.count
        print("tenant B's 1,000 bulk messages out in \(lastB - posted) s while tenant A (5 messages/s) sent \(aDuring)")
        #expect(aDuring <= 25, "A sent \(aDuring) while B's 1,000 waited \(lastB - posted) s")
        // A's held mail waits, never fails, no attempt counted.
        #expect(try await fleet.count(status: "failed") == 0)
        let attempts = try await fleet.pool.query(
            "SELECT coalesce(max(attempts), 0) AS n FROM messages WHERE tenant_id = $1::uuid AND status <> 'sent'", [a]).first!.int("n")
        #expect(attempts == 0)
        var holds = 0.0
        for port in fleet.workerPorts {
            for line in try await fleet.metrics(port: port).split(separator: "\n") where line.hasPrefix("mailfleet_queue_tenant_holds_total") {
                holds += Double(line.split(separator: " ").last ?? "0") ?? 0
            }
        }
        #expect(holds > 0)
    }
}
