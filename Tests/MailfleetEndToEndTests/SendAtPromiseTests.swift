import Foundation
import MailfleetCore
import Testing

/// The send_at promise: a scheduled message goes out after its time, never before, and soon
/// after it when the fleet is idle. The lateness is printed (BENCHMARKS.md keeps the figures),
/// not asserted: timing on a shared two-core machine is no test.
@Suite(.serialized) struct SendAtPromiseTests {
    @Test func scheduledMessagesAreNeverSentEarly() async throws {
        let fleet = try await Fleet.start("send-at", workers: 2, provider: .sendgrid)
        defer { fleet.stopNow() }
        // 20 single sends due 2 to 3 s ahead, 50 ms apart, at millisecond precision.
        let start = Date().addingTimeInterval(2)
        for i in 0..<20 {
            let due = start.addingTimeInterval(Double(i) * 0.05)
            let answer = try await fleet.api(
                "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b\#(i)@example.com"],"subject":"s","text":"t","send_at":"\#(ISO8601.format(due))"}"#)
            #expect(answer.status == 202)
        }
        #expect(try await fleet.eventually(seconds: 30) { try await fleet.count(status: "sent") == 20 })
        let lateness = try await fleet.pool.query("SELECT extract(epoch FROM sent_at - send_at)::float8 AS late FROM messages ORDER BY 1")
            .map { try $0.double("late") }
        #expect(lateness.count == 20)
        #expect(lateness.allSatisfy { $0 >= 0 }, "sent before send_at: \(lateness.filter { $0 < 0 })")
        let ms = lateness.map { Int(($0 * 1000).rounded()) }
        print("send_at lateness (sent_at - send_at), 20 messages, ms: min \(ms.first ?? 0), p50 \(ms[ms.count / 2]), p95 \(ms[ms.count * 95 / 100]), max \(ms.last ?? 0)")
    }
}
