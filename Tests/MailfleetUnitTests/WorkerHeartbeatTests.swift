import Foundation
import MailfleetCore
import Testing

/// The workers' heartbeats: the tally each worker keeps, the latency mean, the record's JSON,
/// and how the status page adds them up.
@Suite struct WorkerHeartbeatTests {
    let a = UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!
    let b = UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!

    @Test func latencyIsAWeightedMeanThatFollowsRecentCalls() {
        var latency = CallLatency()
        #expect(latency.meanMs == nil && latency.calls == 0)
        latency.record(milliseconds: 100)
        #expect(latency.meanMs == 100)
        latency.record(milliseconds: 200)
        #expect(latency.meanMs == 120)
        // After many slow calls the mean is near the slow duration, whatever came before.
        for _ in 0..<50 { latency.record(milliseconds: 1_000) }
        #expect(latency.calls == 52)
        #expect(abs(latency.meanMs! - 1_000) < 1)
    }

    @Test func aTallyCountsRoundsAndMakesHeartbeats() {
        var tally = WorkerTally()
        tally.count(sent: 5, failed: 1, deferred: 2)
        tally.count(sent: 3, failed: 0, deferred: 1)
        tally.recordCall(account: b, milliseconds: 40)
        tally.recordCall(account: a, milliseconds: 10)
        tally.recordCall(account: a, milliseconds: 20)
        let beat = tally.heartbeat(id: "w1", host: "box", pid: 42, startedAtMs: 1_000, nowMs: 5_000)
        #expect(beat == WorkerHeartbeat(
            id: "w1", host: "box", pid: 42, startedAtMs: 1_000, beatAtMs: 5_000, sent: 8, failed: 1, deferred: 3,
            accounts: [.init(accountID: a, calls: 2, meanMs: 12), .init(accountID: b, calls: 1, meanMs: 40)]))
    }

    @Test func theRecordRoundTripsThroughJSONWithSnakeCaseKeys() throws {
        let beat = WorkerHeartbeat(
            id: "w1", host: "box", pid: 42, startedAtMs: 1_000, beatAtMs: 5_000, sent: 8, failed: 1, deferred: 3,
            accounts: [.init(accountID: a, calls: 2, meanMs: 12.5)])
        let data = try JSONEncoder().encode(beat)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["id", "host", "pid", "started_at_ms", "beat_at_ms", "sent", "failed", "deferred", "accounts"])
        #expect(try JSONDecoder().decode(WorkerHeartbeat.self, from: data) == beat)
    }

    @Test func activityCountsOnlyRecentWorkersOnceAndSumsThem() {
        let beats = [
            WorkerHeartbeat(id: "w1", host: "h", pid: 1, startedAtMs: 0, beatAtMs: 9_000, sent: 10, failed: 1, deferred: 2),
            // An older heartbeat of the same worker does not count twice.
            WorkerHeartbeat(id: "w1", host: "h", pid: 1, startedAtMs: 0, beatAtMs: 8_000, sent: 7),
            WorkerHeartbeat(id: "w2", host: "h", pid: 2, startedAtMs: 0, beatAtMs: 5_000, sent: 5, failed: 0, deferred: 1),
            // Silent for longer than the window: not alive.
            WorkerHeartbeat(id: "w3", host: "h", pid: 3, startedAtMs: 0, beatAtMs: 4_000, sent: 100),
        ]
        let activity = FleetActivity(heartbeats: beats, nowMs: 10_000, aliveWithinMs: 5_000)
        #expect(activity.workers.map(\.id) == ["w1", "w2"])
        #expect(activity.workers[0].sent == 10)
        #expect((activity.sent, activity.failed, activity.deferred) == (15, 1, 3))
    }

    @Test func anAccountsLatencyIsWeightedByEachWorkersCalls() {
        let beats = [
            WorkerHeartbeat(id: "w1", host: "h", pid: 1, startedAtMs: 0, beatAtMs: 1_000, accounts: [.init(accountID: a, calls: 3, meanMs: 10)]),
            WorkerHeartbeat(
                id: "w2", host: "h", pid: 2, startedAtMs: 0, beatAtMs: 1_000,
                accounts: [.init(accountID: a, calls: 1, meanMs: 50), .init(accountID: b, calls: 2, meanMs: 7)]),
        ]
        let activity = FleetActivity(heartbeats: beats, nowMs: 1_000, aliveWithinMs: 5_000)
        #expect(activity.latencies[a] == .init(accountID: a, calls: 4, meanMs: 20))
        #expect(activity.latencies[b] == .init(accountID: b, calls: 2, meanMs: 7))
        #expect(FleetActivity(heartbeats: [], nowMs: 0, aliveWithinMs: 1).latencies.isEmpty)
    }
}
