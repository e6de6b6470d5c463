import MailfleetCore
import Testing

/// The status page's sparkline: rates from heartbeat differences, steady between heartbeats,
/// and a ring that keeps the latest points.
@Suite struct ThroughputHistoryTests {
    func beat(_ id: String, started: Int = 0, at: Int, sent: Int, failed: Int = 0) -> WorkerHeartbeat {
        WorkerHeartbeat(id: id, host: "h", pid: 1, startedAtMs: started, beatAtMs: at, sent: sent, failed: failed)
    }

    @Test func ratesComeFromTheDifferenceBetweenHeartbeatsAndHoldUntilTheNext() {
        var history = ThroughputHistory(capacity: 10)
        // A worker that ran before the history began: its count since start is not a rate.
        history.record([beat("w1", at: 10_000, sent: 500)], atMs: 10_500)
        history.record([beat("w1", at: 12_000, sent: 540, failed: 2)], atMs: 12_500)
        // No new heartbeat yet: the last rate holds.
        history.record([beat("w1", at: 12_000, sent: 540, failed: 2)], atMs: 13_500)
        history.record([beat("w1", at: 14_000, sent: 540, failed: 2)], atMs: 14_500)
        #expect(history.points.map(\.sentPerSecond) == [0, 20, 20, 0])
        #expect(history.points.map(\.failedPerSecond) == [0, 1, 1, 0])
        #expect(history.points.map(\.atMs) == [10_500, 12_500, 13_500, 14_500])
    }

    @Test func workersAreSummedAndANewOneCountsFromItsStart() {
        var history = ThroughputHistory(capacity: 10)
        history.record([beat("w1", at: 1_000, sent: 0)], atMs: 1_000)
        // w2 started after the history began: 30 sent in its first 3 s is 10 per second.
        history.record([beat("w1", at: 3_000, sent: 20), beat("w2", started: 2_000, at: 5_000, sent: 30)], atMs: 5_000)
        #expect(history.points.last?.sentPerSecond == 20)
        // w1 stops (no heartbeat): only w2's rate remains.
        history.record([beat("w2", started: 2_000, at: 7_000, sent: 50)], atMs: 7_000)
        #expect(history.points.last?.sentPerSecond == 10)
    }

    @Test func aRestartedWorkerUnderTheSameIdDoesNotCountNegative() {
        var history = ThroughputHistory(capacity: 10)
        history.record([beat("w1", at: 1_000, sent: 100)], atMs: 1_000)
        history.record([beat("w1", started: 1_500, at: 2_500, sent: 4)], atMs: 2_500)
        #expect(history.points.last?.sentPerSecond == 4)
    }

    @Test func theRingKeepsTheLatestPointsOldestFirst() {
        var history = ThroughputHistory(capacity: 3)
        #expect(history.points.isEmpty)
        for second in 1...5 { history.record([], atMs: second * 1_000) }
        #expect(history.points.map(\.atMs) == [3_000, 4_000, 5_000])
        #expect(ThroughputHistory(capacity: 0).capacity == 1)
    }
}
