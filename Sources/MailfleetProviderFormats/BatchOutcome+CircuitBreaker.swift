import Foundation
import MailfleetCore

extension BatchOutcome {
    /// What this call tells the account's circuit breaker: `.failure` when the call failed
    /// retryably as a whole (no answer, a timeout, a 5xx, an account failure), `.success` when
    /// the account answered (refusing some messages or recipients for good is still an answer),
    /// nil for a 429: throttling says the account is busy, not broken, so it is not counted.
    public var breakerOutcome: CircuitBreaker.Outcome? {
        if status == 429 { return nil }
        if accountFailure != nil { return .failure }
        let answered = (200..<300).contains(status)
        let everyMessageRetryable = !outcomes.isEmpty && outcomes.values.allSatisfy(\.isRetryable)
        return !answered && everyMessageRetryable ? .failure : .success
    }
}
