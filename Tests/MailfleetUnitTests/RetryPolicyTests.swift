import Foundation
import MailfleetCore
import Testing

@Suite struct RetryPolicyTests {
    @Test func delaysGrowExponentiallyWithinJitterBounds() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 42)
        for attempt in 1...7 {
            let ceiling = min(3600, 10 * pow(2, Double(attempt - 1)))
            for _ in 0..<50 {
                guard case .retry(let delay) = policy.decision(afterAttempt: attempt, using: &rng) else {
                    Issue.record("attempt \(attempt) should retry"); return
                }
                #expect(delay >= ceiling / 2 && delay <= ceiling)
            }
        }
        #expect(policy.decision(afterAttempt: 8, using: &rng) == .giveUp)
    }

    @Test func retryAfterRaisesButNeverLowersTheDelay() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 1)
        #expect(policy.decision(afterAttempt: 1, retryAfter: 120, using: &rng) == .retry(after: 120))
        guard case .retry(let delay) = policy.decision(afterAttempt: 1, retryAfter: 1, using: &rng) else { Issue.record("should retry"); return }
        #expect(delay >= 5)
    }

    @Test func retryAfterParsesSecondsAndDates() {
        #expect(ResponseClassifier.parseRetryAfter("30") == 30)
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(ResponseClassifier.parseRetryAfter("Tue, 14 Nov 2023 22:13:20 GMT", now: now) == 0)
        #expect(ResponseClassifier.parseRetryAfter("Tue, 14 Nov 2023 22:14:20 GMT", now: now) == 60)
        #expect(ResponseClassifier.parseRetryAfter("soon") == nil)
    }

    @Test func statusesAreClassified() {
        #expect(ResponseClassifier.classify(status: 202, retryAfter: nil) == .accepted)
        #expect(ResponseClassifier.classify(status: 429, retryAfter: "7") == .retryable(retryAfter: 7))
        #expect(ResponseClassifier.classify(status: 503, retryAfter: nil) == .retryable(retryAfter: nil))
        #expect(ResponseClassifier.classify(status: 401, retryAfter: nil) == .accountFailure)
        #expect(ResponseClassifier.classify(status: 403, retryAfter: nil) == .accountFailure)
        #expect(ResponseClassifier.classify(status: 400, retryAfter: nil) == .rejected)
    }
}
