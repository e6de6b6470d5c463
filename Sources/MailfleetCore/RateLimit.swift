/// GCRA (generic cell rate algorithm): `limit` requests per `periodMs`, at most `limit` at once.
/// The only state is the theoretical arrival time (TAT) of the next request. This pure form is
/// the reference for the Lua script the API runs in Redis (`RateLimiter.script`), which does the
/// same arithmetic atomically; both are tested against each other.
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

    /// Milliseconds between requests at the sustained rate.
    public var emissionIntervalMs: Double { Double(periodMs) / Double(limit) }

    /// The answer for one request arriving at `nowMs` with stored TAT `tatMs` (nil: none stored).
    public func decide(nowMs: Int, tatMs: Int?) -> RateLimitDecision {
        let interval = emissionIntervalMs
        let tat = Double(max(tatMs ?? nowMs, nowMs))
        let newTAT = tat + interval
        let allowAt = newTAT - Double(periodMs)
        let now = Double(nowMs)
        if now < allowAt {
            return RateLimitDecision(
                allowed: false, limit: limit, remaining: 0, retryAfterMs: Int((allowAt - now).rounded(.up)),
                resetMs: Int((tat - now).rounded(.up)), newTATMs: nil)
        }
        let remaining = Int(((Double(periodMs) - (newTAT - now)) / interval).rounded(.down))
        return RateLimitDecision(
            allowed: true, limit: limit, remaining: max(0, remaining), retryAfterMs: 0,
            resetMs: Int((newTAT - now).rounded(.up)), newTATMs: Int(newTAT.rounded(.up)))
    }
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
    /// The TAT to store when allowed.
    public var newTATMs: Int?

    /// Creates a decision.
    public init(allowed: Bool, limit: Int, remaining: Int, retryAfterMs: Int, resetMs: Int, newTATMs: Int?) {
        self.allowed = allowed
        self.limit = limit
        self.remaining = remaining
        self.retryAfterMs = retryAfterMs
        self.resetMs = resetMs
        self.newTATMs = newTATMs
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
