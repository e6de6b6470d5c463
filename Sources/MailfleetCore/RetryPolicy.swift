import Foundation

/// When to try a failed message again: exponential backoff with half-jitter, capped, and a
/// maximum number of attempts after which the message is dead-lettered.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay before the first retry. Default 10 s.
    public var baseDelay: Double = 10
    /// Longest delay between attempts. Default 1 h.
    public var maxDelay: Double = 3600
    /// Attempts in all (the first send included) before giving up. Default 8.
    public var maxAttempts: Int = 8

    /// Creates a policy.
    public init(baseDelay: Double = 10, maxDelay: Double = 3600, maxAttempts: Int = 8) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
    }

    /// What to do after attempt number `attempt` (1-based) failed retryably.
    ///
    /// The delay is drawn uniformly from [ceiling/2, ceiling] where ceiling = min(max, base·2^(attempt-1)):
    /// half-jitter keeps a floor so retries do not hammer a provider, while spreading a
    /// failed batch's retries over time. A provider's Retry-After raises the delay, never lowers it.
    public func decision<R: RandomNumberGenerator>(
        afterAttempt attempt: Int, retryAfter: Double? = nil, using rng: inout R
    ) -> RetryDecision {
        guard attempt < maxAttempts else { return .giveUp }
        let exponent = Double(min(max(attempt - 1, 0), 40))
        let ceiling = min(maxDelay, baseDelay * pow(2, exponent))
        var delay = Double.random(in: (ceiling / 2)...ceiling, using: &rng)
        if let retryAfter, retryAfter > delay { delay = min(retryAfter, maxDelay) }
        return .retry(after: delay)
    }

    /// `decision(afterAttempt:retryAfter:using:)` with the system generator.
    public func decision(afterAttempt attempt: Int, retryAfter: Double? = nil) -> RetryDecision {
        var rng = SystemRandomNumberGenerator()
        return decision(afterAttempt: attempt, retryAfter: retryAfter, using: &rng)
    }
}

/// The outcome of a `RetryPolicy`.
public enum RetryDecision: Sendable, Equatable {
    /// Try again after this many seconds.
    case retry(after: Double)
    /// Attempts are exhausted: dead-letter it.
    case giveUp
}
