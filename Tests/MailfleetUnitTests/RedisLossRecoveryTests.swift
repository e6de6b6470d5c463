import MailfleetCore
import Testing

@Suite struct RedisLossRecoveryTests {
    typealias Marker = RedisLossRecovery.Marker

    @Test func markersRoundTripAndAnythingElseIsMissing() {
        for marker in [Marker.recovering(generation: "g1"), .ready(generation: "a:b")] {
            #expect(Marker(stored: marker.stored) == marker)
        }
        #expect(Marker.missing.stored == nil)
        for stored in [nil, "", "ready", "ready:", "recovering:", "done:g1", "g1"] as [String?] {
            #expect(Marker(stored: stored) == .missing)
        }
    }

    @Test func oneMissingPartitionMakesTheWholeMarkerMissing() {
        #expect(Marker.combined([.ready(generation: "g"), .missing, .recovering(generation: "g")]) == .missing)
        #expect(Marker.combined([.ready(generation: "g"), .recovering(generation: "h")]) == .recovering(generation: "h"))
        #expect(Marker.combined([.ready(generation: "g"), .ready(generation: "g")]) == .ready(generation: "g"))
        #expect(Marker.combined([]) == .missing)
    }

    @Test func aReadyRedisIsOnlyWatched() {
        var recovery = RedisLossRecovery()
        #expect(recovery.observed(.ready(generation: "g"), fresh: "new") == .watch)
        #expect(recovery.recovering == nil)
        #expect(recovery.passFinished(found: 0) == .watch)
    }

    @Test func aMissingMarkerStartsARecoveryThatRunsUntilAPassFindsNothing() {
        var recovery = RedisLossRecovery()
        #expect(recovery.observed(.missing, fresh: "g1") == .begin(generation: "g1", lost: true))
        #expect(recovery.recovering == "g1")
        // A full pass and a short one (rows may have been skipped as locked) both go on.
        #expect(recovery.passFinished(found: 5000) == .pass)
        #expect(recovery.passFinished(found: 12) == .pass)
        // Its own marker seen between passes changes nothing.
        #expect(recovery.observed(.recovering(generation: "g1"), fresh: "other") == .pass)
        #expect(recovery.passFinished(found: 0) == .finish(generation: "g1"))
        #expect(recovery.recovering == nil)
        #expect(recovery.observed(.ready(generation: "g1"), fresh: "other") == .watch)
    }

    @Test func aLossDuringARecoveryStartsItAgain() {
        var recovery = RedisLossRecovery()
        _ = recovery.observed(.missing, fresh: "g1")
        #expect(recovery.passFinished(found: 5000) == .pass)
        // What the first passes enqueued is gone too: a new cutoff, counted as a new loss.
        #expect(recovery.observed(.missing, fresh: "g2") == .begin(generation: "g2", lost: true))
        #expect(recovery.passFinished(found: 0) == .finish(generation: "g2"))
    }

    @Test func anUnfinishedRecoveryOfAnotherLeaderIsTakenOverUnderANewGeneration() {
        var recovery = RedisLossRecovery()
        #expect(recovery.observed(.recovering(generation: "dead-leader"), fresh: "g2") == .begin(generation: "g2", lost: false))
        #expect(recovery.recovering == "g2")
        // Leadership went back and forth: whoever recovers now, it is not our generation.
        #expect(recovery.observed(.recovering(generation: "g3"), fresh: "g4") == .begin(generation: "g4", lost: false))
        // Another leader finished meanwhile: stop.
        #expect(recovery.observed(.ready(generation: "g5"), fresh: "g6") == .watch)
        #expect(recovery.recovering == nil)
        #expect(recovery.passFinished(found: 0) == .watch)
    }
}
