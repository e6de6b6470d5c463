import Foundation
import MailfleetCore
import Testing

@Suite struct RateLimitTests {
    @Test func allowsABurstOfTheLimitThenRefusesUntilOneIntervalPasses() {
        let limit = RateLimit(limit: 3, periodMs: 60_000)
        var tat: Int?
        var remaining: [Int] = []
        for _ in 0..<3 {
            let decision = limit.decide(nowUs: 1_000_000_000, tatUs: tat)
            #expect(decision.allowed)
            remaining.append(decision.remaining)
            tat = decision.newTATUs
        }
        #expect(remaining == [2, 1, 0])
        let refused = limit.decide(nowUs: 1_000_000_000, tatUs: tat)
        #expect(!refused.allowed)
        #expect(refused.retryAfterMs == 20_000)
        #expect(refused.resetMs == 60_000)
        #expect(refused.newTATUs == nil)
        // One emission interval later exactly one more request fits.
        let later = limit.decide(nowUs: 1_020_000_000, tatUs: tat)
        #expect(later.allowed && later.remaining == 0)
        #expect(!limit.decide(nowUs: 1_020_000_000, tatUs: later.newTATUs).allowed)
    }

    @Test func anIdleSubjectStartsFull() {
        let limit = RateLimit(limit: 600)
        let first = limit.decide(nowUs: 5_000_000, tatUs: 1_000_000)
        #expect(first.allowed && first.remaining == 599)
        #expect(first.resetMs == 100)
    }

    @Test func headersFollowTheIETFDraft() {
        let refused = RateLimitDecision(allowed: false, limit: 10, remaining: 0, retryAfterMs: 1_500, resetMs: 59_001, newTATUs: nil)
        let headers = Dictionary(uniqueKeysWithValues: refused.headers)
        #expect(headers == ["RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "60", "Retry-After": "2"])
        let allowed = RateLimitDecision(allowed: true, limit: 10, remaining: 9, retryAfterMs: 0, resetMs: 6_000, newTATUs: 1)
        #expect(allowed.headers.map(\.0) == ["RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"])
    }

    @Test func aLimitAboveOneRequestAMillisecondIsHeldAtItsRateNotAtOneAMillisecond() {
        // 6,000,000 a minute is 100 a millisecond: a whole second's worth fits in one instant,
        // and 100,000 requests arriving over one second all pass (a millisecond TAT, rounded up
        // at every request, let through 60,000 and refused the rest once the burst was spent).
        let limit = RateLimit(limit: 6_000_000)
        var tat: Int?
        var allowed = 0
        for request in 0..<100_000 {
            let decision = limit.decide(nowUs: 1_000_000_000 + request * 10, tatUs: tat)
            if decision.allowed { allowed += 1; tat = decision.newTATUs }
        }
        #expect(allowed == 100_000)
        // The burst is the limit: 1,000 at one instant pass, the next is refused.
        let instant = RateLimit(limit: 1_000)
        var burstTAT: Int?
        var burst = 0
        while let next = instant.decide(nowUs: 7_000_000, tatUs: burstTAT).newTATUs { burst += 1; burstTAT = next }
        #expect(burst == 1_000)
    }
}
