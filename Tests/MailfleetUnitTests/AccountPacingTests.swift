import MailfleetCore
import Testing

@Suite struct AccountPacingTests {
    let pacing = AccountPacing(baseMs: 1_000, maxMs: 8_000, retryAfterMaxMs: 60_000, memoryMs: 10_000)
    let t0 = 1_764_000_000_000

    @Test func aRetryAfterPacesForThatLong() {
        let state = pacing.throttled(nil, retryAfterMs: 7_000, nowMs: t0)
        #expect(state == AccountPacing.State(pacedUntilMs: t0 + 7_000, backoffMs: 0))
        #expect(state.isPaced(nowMs: t0 + 6_999))
        #expect(!state.isPaced(nowMs: t0 + 7_000))
    }

    @Test func aRetryAfterNeverShortensAPaceInForceAndIsCapped() {
        let long = pacing.throttled(nil, retryAfterMs: 20_000, nowMs: t0)
        #expect(pacing.throttled(long, retryAfterMs: 1_000, nowMs: t0 + 1_000).pacedUntilMs == t0 + 20_000)
        #expect(pacing.throttled(nil, retryAfterMs: 86_400_000, nowMs: t0).pacedUntilMs == t0 + 60_000)
    }

    @Test func withoutRetryAfterTheBackoffDoublesWhile429sRepeatUpToItsMaximum() {
        var state: AccountPacing.State? = nil
        var now = t0
        var backoffs: [Int] = []
        for _ in 0..<6 {
            let next = pacing.throttled(state, retryAfterMs: nil, nowMs: now)
            #expect(next.pacedUntilMs == now + next.backoffMs)
            backoffs.append(next.backoffMs)
            state = next
            now = next.pacedUntilMs  // the next call, right when the pace ends, is throttled again
        }
        #expect(backoffs == [1_000, 2_000, 4_000, 8_000, 8_000, 8_000])
    }

    @Test func a429DuringAPaceIsAnAnswerToAnEarlierCallAndChangesNothing() {
        let state = pacing.throttled(nil, retryAfterMs: nil, nowMs: t0)
        #expect(pacing.throttled(state, retryAfterMs: nil, nowMs: t0 + 500) == state)
    }

    @Test func theBackoffStartsAgainOnceThePaceIsForgotten() {
        let first = pacing.throttled(nil, retryAfterMs: nil, nowMs: t0)
        let second = pacing.throttled(first, retryAfterMs: nil, nowMs: first.pacedUntilMs + 9_999)
        #expect(second.backoffMs == 2_000)
        #expect(pacing.remembered(first, nowMs: first.pacedUntilMs + 10_000) == nil)
        let fresh = pacing.throttled(first, retryAfterMs: nil, nowMs: first.pacedUntilMs + 10_000)
        #expect(fresh.backoffMs == 1_000)
    }

    @Test func aRetryAfterKeepsTheBackoffForTheNext429WithoutOne() {
        let backedOff = pacing.throttled(nil, retryAfterMs: nil, nowMs: t0)
        let told = pacing.throttled(backedOff, retryAfterMs: 3_000, nowMs: backedOff.pacedUntilMs)
        #expect(told.backoffMs == 1_000)
        #expect(pacing.throttled(told, retryAfterMs: nil, nowMs: told.pacedUntilMs).backoffMs == 2_000)
    }

    @Test func valuesAreClamped() {
        let odd = AccountPacing(baseMs: 0, maxMs: -5, retryAfterMaxMs: 0, memoryMs: 0)
        #expect(odd.baseMs == 1 && odd.maxMs == 1 && odd.retryAfterMaxMs == 1 && odd.memoryMs == 1)
    }
}
