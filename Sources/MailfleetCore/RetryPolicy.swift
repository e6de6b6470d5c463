import Foundation

/// When to try a failed message again: exponential backoff with full jitter, capped, a maximum
/// number of attempts and a maximum age, after either of which the message is dead-lettered.
/// Also when a message that waits (no account could take it) is looked at again.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay ceiling before the first retry; it doubles per attempt. Default 10 s.
    public var baseDelay: Double = 10
    /// Longest delay between attempts. Default 1 h.
    public var maxDelay: Double = 3600
    /// Attempts in all (the first send included) before giving up. Default 8.
    public var maxAttempts: Int = 8
    /// Age (since acceptance) past which a failed attempt is the last one. Default 72 h, as
    /// SendGrid keeps retrying deferred mail and near Postfix's queue lifetime.
    public var maxAge: Double = 72 * 3600
    /// The shortest retry delay. Default 1 s: full jitter may draw near zero, which would call
    /// a provider that just failed again at once.
    public var minimumDelay: Double = 1
    /// A waiting message is looked at again up to this long after its account may be called
    /// again, at random, so a fleet's held messages do not all arrive at the same instant. Default 1 s.
    public var waitJitter: Double = 1
    /// For long waits the spread is this share of the wait instead, when that is more, so a
    /// large backlog held through a 5-minute open period comes back over half a minute rather
    /// than in one second. Default 0.1.
    public var waitJitterShare: Double = 0.1

    /// Creates a policy.
    public init(baseDelay: Double = 10, maxDelay: Double = 3600, maxAttempts: Int = 8, maxAge: Double = 72 * 3600) {
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxAttempts = maxAttempts
        self.maxAge = maxAge
    }

    /// What to do after attempt number `attempt` (1-based) of a message `age` seconds old
    /// failed retryably.
    ///
    /// The delay is drawn uniformly from [min(minimumDelay, ceiling), ceiling] where ceiling =
    /// min(maxDelay, base·2^(attempt-1)): full jitter spreads a failed batch's retries over the
    /// whole interval, so a provider coming back is not met by all of them at once. A
    /// provider's Retry-After raises the delay, never lowers it (capped at `maxDelay`).
    public func decision<R: RandomNumberGenerator>(
        afterAttempt attempt: Int, retryAfter: Double? = nil, age: Double = 0, using rng: inout R
    ) -> RetryDecision {
        guard attempt < maxAttempts else { return .giveUp }
        guard age < maxAge else { return .expire }
        let exponent = Double(min(max(attempt - 1, 0), 40))
        let ceiling = min(maxDelay, baseDelay * pow(2, exponent))
        var delay = Double.random(in: min(minimumDelay, ceiling)...ceiling, using: &rng)
        if let retryAfter, retryAfter > delay { delay = min(retryAfter, maxDelay) }
        return .retry(after: delay)
    }

    /// `decision(afterAttempt:retryAfter:age:using:)` with the system generator.
    public func decision(afterAttempt attempt: Int, retryAfter: Double? = nil, age: Double = 0) -> RetryDecision {
        var rng = SystemRandomNumberGenerator()
        return decision(afterAttempt: attempt, retryAfter: retryAfter, age: age, using: &rng)
    }

    /// When a message waiting for an account until `until` is looked at again: that time (or
    /// now, if it has passed) plus a random spread of up to `waitJitter` or `waitJitterShare`
    /// of the wait, whichever is more.
    public func wakeTime<R: RandomNumberGenerator>(waitingUntil until: Date, now: Date, using rng: inout R) -> Date {
        let spread = max(0, waitJitter, until.timeIntervalSince(now) * waitJitterShare)
        return max(until, now).addingTimeInterval(Double.random(in: 0...spread, using: &rng))
    }

    /// `maxAge` as people say it: "72 h", "90 min" or "45 s".
    public var maxAgeText: String {
        if maxAge >= 3600, maxAge.truncatingRemainder(dividingBy: 3600) == 0 { return "\(Int(maxAge / 3600)) h" }
        if maxAge >= 60, maxAge.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(maxAge / 60)) min" }
        return maxAge == maxAge.rounded() ? "\(Int(maxAge)) s" : "\(maxAge) s"
    }
}

/// The outcome of a `RetryPolicy`.
public enum RetryDecision: Sendable, Equatable {
    /// Try again after this many seconds.
    case retry(after: Double)
    /// Attempts are exhausted: dead-letter it.
    case giveUp
    /// The message is older than the policy's maximum age: dead-letter it.
    case expire
}
