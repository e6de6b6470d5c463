/// GCRA (generic cell rate algorithm): `limit` requests per `periodMs`, at most `limit` at once.
/// The only state is the theoretical arrival time (TAT) of the next request, kept in whole
/// microseconds. (It was kept in milliseconds, rounded up at every request: each request then
/// cost at least a whole millisecond, and any limit above 60,000 per minute behaved as 60,000.
/// Microseconds hold the arithmetic up to 1,000,000 requests a second per subject.) This pure
/// form is the reference for the Lua script the API runs in Redis (`RateLimiter.script`), which
/// does the same arithmetic atomically; both are tested against each other.
public struct RateLimit: Sendable, Equatable {
    /// Requests allowed per period.
    public var limit: Int
    /// The period in milliseconds.
    public var periodMs: Int

    /// Creates a limit; `limit` is at least 1.
    public init(limit: Int, periodMs: Int = 60_000) {
        self.limit = max(1, limit)
        self.periodMs = max(1, periodMs)
    }

    /// Microseconds between requests at the sustained rate.
    public var emissionIntervalUs: Double { Double(periodMs) * 1_000 / Double(limit) }

    /// The answer for one request arriving at `nowUs` (microseconds) with stored TAT `tatUs`
    /// (nil: none stored).
    public func decide(nowUs: Int, tatUs: Int?) -> RateLimitDecision {
        let interval = emissionIntervalUs
        let period = Double(periodMs) * 1_000
        let tat = Double(max(tatUs ?? nowUs, nowUs))
        let newTAT = tat + interval
        let allowAt = newTAT - period
        let now = Double(nowUs)
        if now < allowAt {
            return RateLimitDecision(
                allowed: false, limit: limit, remaining: 0, retryAfterMs: Self.milliseconds(allowAt - now),
                resetMs: Self.milliseconds(tat - now), newTATUs: nil)
        }
        let remaining = Int(((period - (newTAT - now)) / interval).rounded(.down))
        return RateLimitDecision(
            allowed: true, limit: limit, remaining: max(0, remaining), retryAfterMs: 0,
            resetMs: Self.milliseconds(newTAT - now), newTATUs: Int(newTAT.rounded(.up)))
    }

    /// Microseconds to whole milliseconds, rounded up, as the answer carries them.
    static func milliseconds(_ us: Double) -> Int { Int((us / 1_000).rounded(.up)) }
}

/// The outcome of one rate-limit check, in the terms of the IETF RateLimit header fields.
public struct RateLimitDecision: Sendable, Equatable {
    /// Whether the request may proceed.
    public var allowed: Bool
    /// The limit (`RateLimit-Limit`).
    public var limit: Int
    /// Requests left at once (`RateLimit-Remaining`).
    public var remaining: Int
    /// Milliseconds until a refused request may be retried (`Retry-After`, rounded up to seconds).
    public var retryAfterMs: Int
    /// Milliseconds until the limit is fully available again (`RateLimit-Reset`).
    public var resetMs: Int
    /// The TAT to store when allowed, in microseconds.
    public var newTATUs: Int?

    /// Creates a decision.
    public init(allowed: Bool, limit: Int, remaining: Int, retryAfterMs: Int, resetMs: Int, newTATUs: Int?) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.retryAfterMs = retryAfterMs
        self.resetMs = resetMs
        self.newTATUs = newTATUs
    }

    /// Whole seconds, rounded up, as the headers carry them.
    public static func seconds(_ ms: Int) -> Int { (ms + 999) / 1000 }

    /// The response headers: RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, and
    /// Retry-After when refused.
    public var headers: [(String, String)] {
        var out = [
            ("RateLimit-Limit", "\(limit)"), ("RateLimit-Remaining", "\(remaining)"),
            ("RateLimit-Reset", "\(RateLimitDecision.seconds(resetMs))"),
        ]
        if !allowed { out.append(("Retry-After", "\(max(1, RateLimitDecision.seconds(retryAfterMs)))")) }
        return out
    }
}
