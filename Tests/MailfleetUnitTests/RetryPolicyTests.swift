import Foundation
import MailfleetCore
import Testing

@Suite struct RetryPolicyTests {
    @Test func delaysGrowExponentiallyWithFullJitter() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 42)
        for attempt in 1...7 {
            let ceiling = min(3600, 10 * pow(2, Double(attempt - 1)))
            var delays: [Double] = []
            for _ in 0..<200 {
                guard case .retry(let delay) = policy.decision(afterAttempt: attempt, using: &rng) else {
                    Issue.record("attempt \(attempt) should retry"); return
                }
                delays.append(delay)
            }
            // Within [1 s floor, ceiling], and spread over the whole of it, the lower half included
            // (half jitter never went below ceiling / 2).
            #expect(delays.allSatisfy { $0 >= 1 && $0 <= ceiling })
            #expect(delays.contains { $0 < ceiling / 4 })
            #expect(delays.contains { $0 > ceiling * 3 / 4 })
        }
        #expect(policy.decision(afterAttempt: 8, using: &rng) == .giveUp)
    }

    @Test func theFloorIsTheCeilingWhenTheCeilingIsBelowIt() {
        let policy = RetryPolicy(baseDelay: 0.25, maxDelay: 0.5, maxAttempts: 8)
        var rng = SeededGenerator(state: 8)
        for attempt in 1...7 {
            guard case .retry(let delay) = policy.decision(afterAttempt: attempt, using: &rng) else { Issue.record("should retry"); return }
            #expect(delay >= 0.25 && delay <= 0.5)
        }
    }

    @Test func aMessagePastItsMaximumAgeExpires() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8, maxAge: 72 * 3600)
        var rng = SeededGenerator(state: 2)
        #expect(policy.decision(afterAttempt: 1, age: 72 * 3600, using: &rng) == .expire)
        guard case .retry = policy.decision(afterAttempt: 1, age: 72 * 3600 - 1, using: &rng) else { Issue.record("should retry"); return }
        // Attempts exhausted is said first when both hold.
        #expect(policy.decision(afterAttempt: 8, age: 100 * 3600, using: &rng) == .giveUp)
        #expect(policy.maxAgeText == "72 h")
        #expect(RetryPolicy(maxAge: 5400).maxAgeText == "90 min")
        #expect(RetryPolicy(maxAge: 45).maxAgeText == "45 s")
    }

    @Test func aWaitWakesAtItsTimeWithinTheJitter() {
        let policy = RetryPolicy()
        var rng = SeededGenerator(state: 4)
        let now = Date(timeIntervalSince1970: 1_000)
        var wakes: [Double] = []
        for _ in 0..<100 {
            wakes.append(policy.wakeTime(waitingUntil: now.addingTimeInterval(5), now: now, using: &rng).timeIntervalSince(now))
        }
        // A short wait spreads over the 1 s jitter.
        #expect(wakes.allSatisfy { $0 >= 5 && $0 <= 6 })
        // Spread out, so a fleet's held messages do not all come back in the same instant.
        #expect(Set(wakes).count > 90)
        // A long wait spreads over a tenth of itself: 300 s over 30 s.
        let long = (0..<200).map { _ in
            policy.wakeTime(waitingUntil: now.addingTimeInterval(300), now: now, using: &rng).timeIntervalSince(now)
        }
        #expect(long.allSatisfy { $0 >= 300 && $0 <= 330 })
        #expect(long.contains { $0 > 320 })
    }

    @Test func retryAfterRaisesButNeverLowersTheDelay() {
        let policy = RetryPolicy(baseDelay: 10, maxDelay: 3600, maxAttempts: 8)
        var rng = SeededGenerator(state: 1)
        #expect(policy.decision(afterAttempt: 1, retryAfter: 120, using: &rng) == .retry(after: 120))
        // A Retry-After shorter than the drawn delay leaves the delay as drawn.
        for _ in 0..<50 {
            guard case .retry(let delay) = policy.decision(afterAttempt: 1, retryAfter: 1, using: &rng) else { Issue.record("should retry"); return }
            #expect(delay >= 1 && delay <= 10)
        }
        // A Retry-After beyond the longest delay is cut to it.
        #expect(policy.decision(afterAttempt: 1, retryAfter: 7200, using: &rng) == .retry(after: 3600))
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
