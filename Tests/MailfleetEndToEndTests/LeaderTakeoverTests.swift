import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Two schedulers: one leads, the other stands by; `kill -9` of the leader hands leadership to
/// the standby within the leader lease (MAILFLEET_LEADER_LEASE_SECONDS, plus a tick of 100 ms
/// and this test's polling), and scheduled sends due after the kill still go.
@Suite(.serialized) struct LeaderTakeoverTests {
    @Test func theStandbyLeadsWithinTheLeaseAfterTheLeaderIsKilled() async throws {
        let leaseSeconds = 2.0
        let environment = ["MAILFLEET_LEADER_LEASE_SECONDS": "\(leaseSeconds)"]
        let fleet = try await Fleet.start("leaders", workers: 1, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let secondPort = try await fleet.launch("scheduler-2", "mailfleet-scheduler", environment)
        let schedulers = [("scheduler", fleet.schedulerPort), ("scheduler-2", secondPort)]

        func leading(_ port: Int) async throws -> Bool {
            let metrics = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyString
            return DeliveryTests.sample(metrics, "mailfleet_scheduler_is_leader") == 1
        }
        // Exactly one leads, and goes on leading (the standby's every-tick attempts fail).
        let settled = try await fleet.eventually(seconds: 20) {
            var leaders = 0
            for (_, port) in schedulers where try await leading(port) { leaders += 1 }
            return leaders == 1
        }
        try #require(settled)
        let leaderIndex = try await leading(schedulers[0].1) ? 0 : 1
        let (leaderKey, _) = schedulers[leaderIndex]
        let (_, standbyPort) = schedulers[1 - leaderIndex]
        let stable = try await fleet.holds(until: Date().addingTimeInterval(2 * leaseSeconds)) { try await !leading(standbyPort) }
        #expect(stable)

        // A send due shortly after the kill: only a leader promotes it.
        let due = Date().addingTimeInterval(leaseSeconds + 1)
        let scheduled = try await fleet.api(
            "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"subject":"Due","text":"x","send_at":"\#(ISO8601.format(due))"}"#)
        #expect(scheduled.status == 202)

        let leader = try #require(fleet.process(leaderKey))
        let killedAt = Date()
        kill(leader.processIdentifier, SIGKILL)
        leader.waitUntilExit()
        let tookOver = try await fleet.eventually(seconds: 30) { try await leading(standbyPort) }
        let takeover = Date().timeIntervalSince(killedAt)
        #expect(tookOver)
        // The lease, a tick, and this test's polling and process start-up slack.
        #expect(takeover < leaseSeconds + 1.5, "takeover took \(takeover) s")

        let sent = try await fleet.eventually(seconds: 20) { try await fleet.count(status: "sent") == 1 }
        #expect(sent)
        // And one sent after the takeover goes too.
        let later = Date().addingTimeInterval(1)
        let next = try await fleet.api(
            "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["c@example.com"],"subject":"Later","text":"x","send_at":"\#(ISO8601.format(later))"}"#)
        #expect(next.status == 202)
        let both = try await fleet.eventually(seconds: 20) { try await fleet.count(status: "sent") == 2 }
        #expect(both)
    }
}
