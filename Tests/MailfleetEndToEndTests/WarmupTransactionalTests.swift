import Foundation
import MailfleetCore
import Testing

/// Warm-up and the two lanes end to end (docs/FLOW.md, Warm-up): transactional mail from a
/// warming domain counts toward the day's count but is never held by the cap; bulk gets what
/// the day's count leaves and waits for tomorrow beyond it.
@Suite(.serialized) struct WarmupTransactionalTests {
    static func send(_ fleet: Fleet, count: Int, priority: String) async throws -> [String] {
        let one = #"{"from":"news@news.example","to":["fan@example.org"],"subject":"s","text":"t","priority":"\#(priority)"}"#
        let answer = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(Array(repeating: one, count: count).joined(separator: ","))]}"#)
        #expect(answer.status == 202)
        return ((Fleet.object(answer)["messages"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? String)?.lowercased() }
    }

    @Test func transactionalMailCountsTowardTheCapButIsNeverHeldByIt() async throws {
        let fleet = try await Fleet.start("warmup-lanes", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["tenants", "warmup", "start", "--tenant", fleet.tenantID, "--domain", "news.example", "--schedule", "3,10"])

        // Two password resets: sent, and counted (2 of today's 3).
        let resets = try await Self.send(fleet, count: 2, priority: "transactional")
        #expect(try await fleet.eventually(seconds: 30) { Set(try await fleet.simArrivals().keys).isSuperset(of: resets) })

        // Four bulk messages: one place is left today; the other three wait for tomorrow.
        let news = try await Self.send(fleet, count: 4, priority: "bulk")
        var waiting: [String] = []
        #expect(try await fleet.eventually(seconds: 30) {
            let arrived = try await fleet.simArrivals()
            waiting = news.filter { arrived[$0] == nil }
            guard news.count - waiting.count == 1, waiting.count == 3 else { return false }
            for id in waiting {
                let view = Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))
                guard (view["last_error"] as? String)?.contains("warm-up of news.example") == true else { return false }
            }
            return true
        }, "bulk sent: \(news.count - waiting.count) of \(news.count)")
        for id in waiting {
            let view = Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))
            #expect(view["attempts"] as? Int == 0 && view["status"] as? String == "queued", "\(view)")
            let due = (view["events"] as? [[String: Any]])?.last?["detail"] as? [String: Any]
            // It waits for the next UTC day.
            let next = (due?["next_attempt_at"] as? String).flatMap(ISO8601.parse)
            #expect(next.map { $0 >= WarmupSchedule.nextDay(after: Date()) } == true, "\(view)")
        }

        // The cap is reached, and more password resets still go at once, over it.
        let more = try await Self.send(fleet, count: 3, priority: "transactional")
        #expect(try await fleet.eventually(seconds: 30) { Set(try await fleet.simArrivals().keys).isSuperset(of: more) })
        let report = Fleet.object(try await fleet.api("GET", "/v1/limits"))
        let warmup = try #require((report["warmups"] as? [[String: Any]])?.first)
        #expect(warmup["cap_today"] as? Int == 3 && warmup["sent_today"] as? Int == 6, "\(warmup)")
        #expect(try await fleet.count(status: "failed") == 0)
    }
}
