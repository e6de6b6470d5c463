import MailfleetCore
import Testing

@Suite struct IdleWatchTests {
    @Test func oneLaneWatchesAnEmptyQueueWhileTheOthersWait() {
        var watch = IdleWatch()
        #expect(watch.foundNothing(lane: 2) == .watch)
        #expect(watch.foundNothing(lane: 0) == .wait)
        #expect(watch.foundNothing(lane: 3) == .wait)
        // The watcher sweeps again after its sleep and stays the watcher.
        #expect(watch.foundNothing(lane: 2) == .watch)
        #expect(watch.watcher == 2 && watch.waiting == [0, 3])
        // A lane is never listed twice.
        #expect(watch.foundNothing(lane: 0) == .wait)
        #expect(watch.waiting == [0, 3])
    }

    @Test func workFoundWakesEveryWaitingLaneAndFreesTheWatch() {
        var watch = IdleWatch()
        _ = watch.foundNothing(lane: 1)
        _ = watch.foundNothing(lane: 0)
        _ = watch.foundNothing(lane: 2)
        #expect(watch.foundWork(lane: 1) == [0, 2])
        #expect(watch.watcher == nil && watch.waiting.isEmpty)
        // The woken lanes sweep; the first to find nothing watches.
        #expect(watch.foundNothing(lane: 2) == .watch)
        #expect(watch.foundNothing(lane: 0) == .wait)
        // Work found by a lane that was not the watcher leaves the watcher in place.
        #expect(watch.foundWork(lane: 3) == [0])
        #expect(watch.watcher == 2)
        // Nobody waiting: nothing to wake.
        #expect(watch.foundWork(lane: 2).isEmpty)
        #expect(watch.watcher == nil)
    }

    @Test func stoppingWakesEveryWaiterAndNoLaneWaitsAfterwards() {
        var watch = IdleWatch()
        _ = watch.foundNothing(lane: 0)
        _ = watch.foundNothing(lane: 1)
        _ = watch.foundNothing(lane: 2)
        #expect(watch.stop() == [1, 2])
        #expect(watch.foundNothing(lane: 1) == .watch)
        #expect(watch.foundNothing(lane: 2) == .watch)
        #expect(watch.waiting.isEmpty && watch.stopped)
    }
}
