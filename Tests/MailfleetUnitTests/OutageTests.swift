import MailfleetCore
import Testing

/// A dependency outage as a process loop sees it: one report when it begins, one when it ends,
/// growing pauses meanwhile.
@Suite struct OutageTests {
    @Test func onlyTheFirstFailureBeginsAnOutageAndTheAnswerEndsIt() {
        var outage = Outage()
        #expect(!outage.isActive)
        let nothingToEnd = outage.succeeded(atMs: 0)
        #expect(nothingToEnd == nil)
        let begins = [outage.failed(atMs: 1000), outage.failed(atMs: 1100), outage.failed(atMs: 1300)]
        #expect(begins == [true, false, false])
        #expect(outage.isActive)
        let ended = outage.succeeded(atMs: 4000)
        #expect(ended == Outage.Ended(durationMs: 3000, failures: 3))
        #expect(!outage.isActive)
        let again = outage.succeeded(atMs: 4100)
        #expect(again == nil)
        // The next failure is a new outage.
        let next = outage.failed(atMs: 5000)
        #expect(next)
    }

    @Test func pausesDoubleFromTheMinimumUpToTheMaximum() {
        var outage = Outage(minimumDelayMs: 100, maximumDelayMs: 5000)
        #expect(outage.delayMs == 0)
        var delays: [Int] = []
        for i in 0..<40 {
            _ = outage.failed(atMs: i)
            delays.append(outage.delayMs)
        }
        #expect(Array(delays.prefix(8)) == [100, 200, 400, 800, 1600, 3200, 5000, 5000])
        #expect(delays.last == 5000)
        _ = outage.succeeded(atMs: 100)
        #expect(outage.delayMs == 0)
    }
}
