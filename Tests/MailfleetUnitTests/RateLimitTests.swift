import Foundation
import MailfleetCore
import Testing

@Suite struct RateLimitTests {
    @Test func allowsABurstOfTheLimitThenRefusesUntilOneIntervalPasses() {
        let limit = RateLimit(limit: 3, periodMs: 60_000)
        var tat: Int?
        var remaining: [Int] = []
        for _ in 0..<3 {
            let decision = limit.decide(nowMs: 1_000_000, tatMs: tat)
            #expect(decision.allowed)
            remaining.append(decision.remaining)
            tat = decision.newTATMs
        }
        #expect(remaining == [2, 1, 0])
        let refused = limit.decide(nowMs: 1_000_000, tatMs: tat)
        #expect(!refused.allowed)
        #expect(refused.retryAfterMs == 20_000)
        #expect(refused.resetMs == 60_000)
        #expect(refused.newTATMs == nil)
        // One emission interval later exactly one more request fits.
        let later = limit.decide(nowMs: 1_020_000, tatMs: tat)
        #expect(later.allowed && later.remaining == 0)
        #expect(!limit.decide(nowMs: 1_020_000, tatMs: later.newTATMs).allowed)
    }

    @Test func anIdleSubjectStartsFull() {
        let limit = RateLimit(limit: 600)
        let first = limit.decide(nowMs: 5_000, tatMs: 1_000)
        #expect(first.allowed && first.remaining == 599)
        #expect(first.resetMs == 100)
    }

    @Test func headersFollowTheIETFDraft() {
        let refused = RateLimitDecision(allowed: false, limit: 10, remaining: 0, retryAfterMs: 1_500, resetMs: 59_001, newTATMs: nil)
        let headers = Dictionary(uniqueKeysWithValues: refused.headers)
        #expect(headers == ["RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "60", "Retry-After": "2"])
        let allowed = RateLimitDecision(allowed: true, limit: 10, remaining: 9, retryAfterMs: 0, resetMs: 6_000, newTATMs: 1)
        #expect(allowed.headers.map(\.0) == ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"])
    }
}
