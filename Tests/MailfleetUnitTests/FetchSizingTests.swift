import Foundation
import MailfleetCore
import Testing

@Suite struct FetchSizingTests {
    @Test func heldRoundsShrinkTheFetchToWhatWasAdmittedAndFreeRoundsGrowIt() {
        var sizing = FetchSizing(batchSize: 500)
        #expect(sizing.next == 500)
        // Tokens spent: a pause until the next is free.
        #expect(sizing.roundEnded(fetched: 500, held: 480, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.next == 20)
        #expect(sizing.roundEnded(fetched: 20, held: 0, nextFreeMs: 0, jitter: 0.5) == 0)
        #expect(sizing.next == 40)
        // A short fetch (the queue had less) does not grow it.
        #expect(sizing.roundEnded(fetched: 3, held: 0, nextFreeMs: 0, jitter: 0.5) == 0)
        #expect(sizing.next == 40)
        for _ in 0..<10 { _ = sizing.roundEnded(fetched: sizing.next, held: 0, nextFreeMs: 0, jitter: 0) }
        #expect(sizing.next == 500)
    }

    @Test func roundsHeldWhollyPauseLongerEachTimeUpToTheMaximum() {
        var sizing = FetchSizing(batchSize: 100, maxPauseMs: 250)
        #expect(sizing.roundEnded(fetched: 4, held: 4, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.next == 1)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0.5) == 10)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0.5) == 20)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5, jitter: 0) == 20)
        #expect(sizing.roundEnded(fetched: 1, held: 1, nextFreeMs: 5_000, jitter: 0.9) == 250)
        #expect(sizing.heldRounds == 5)
        // A round that sent something ends the run.
        #expect(sizing.roundEnded(fetched: 2, held: 1, nextFreeMs: 5, jitter: 0.5) == 5)
        #expect(sizing.heldRounds == 0)
    }
}
