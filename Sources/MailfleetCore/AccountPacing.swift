/// How long a provider account is left alone after it answers 429: the provider's Retry-After
/// when it gives one, else a backoff that starts at `baseMs` and doubles while 429s repeat, up
/// to `maxMs`. Pure arithmetic on one account's state, so the Redis script that the whole fleet
/// shares (`AccountPacingStore`) is checked against it.
public struct AccountPacing: Sendable, Equatable {
    /// One account's pace: paced until `pacedUntilMs`; `backoffMs` is the last backoff used
    /// (0 when none), which the next 429 without Retry-After doubles.
    public struct State: Sendable, Equatable {
        /// Epoch milliseconds until which the account is not called.
        public var pacedUntilMs: Int
        /// The last backoff used, in milliseconds; 0 when none.
        public var backoffMs: Int

        /// Creates a state.
        public init(pacedUntilMs: Int, backoffMs: Int) {
            self.pacedUntilMs = pacedUntilMs
            self.backoffMs = backoffMs
        }

        /// True while the account must not be called.
        public func isPaced(nowMs: Int) -> Bool { nowMs < pacedUntilMs }
    }

    /// The first backoff when a 429 has no Retry-After. Default 1,000 ms.
    public var baseMs: Int
    /// The longest backoff. Default 60,000 ms: a throttled account is tried at least every minute.
    public var maxMs: Int
    /// The longest Retry-After honoured. Default 3,600,000 ms (1 h), so a provider's odd
    /// answer cannot silence an account for days.
    public var retryAfterMaxMs: Int
    /// How long a pace is remembered after it ends. A 429 within that time doubles the last
    /// backoff; after it the backoff starts again from the base. Default 60,000 ms.
    public var memoryMs: Int

    /// Creates a pacing policy; values are clamped to at least 1 ms (the maximum to at least the base).
    public init(baseMs: Int = 1_000, maxMs: Int = 60_000, retryAfterMaxMs: Int = 3_600_000, memoryMs: Int = 60_000) {
        self.baseMs = max(1, baseMs)
        self.maxMs = max(self.baseMs, maxMs)
        self.retryAfterMaxMs = max(1, retryAfterMaxMs)
        self.memoryMs = max(1, memoryMs)
    }

    /// The state after the account answered 429 at `nowMs`, from `state` (nil when none is
    /// remembered). A Retry-After sets the pace (never shortening one in force) and keeps the
    /// backoff. Without one: a pace already in force is left as it is (the answer is to a call
    /// made before it began), else the backoff doubles (or starts at the base).
    public func throttled(_ state: State?, retryAfterMs: Int?, nowMs: Int) -> State {
        let current = remembered(state, nowMs: nowMs) ?? State(pacedUntilMs: 0, backoffMs: 0)
        if let retryAfterMs {
            let wait = min(max(0, retryAfterMs), retryAfterMaxMs)
            return State(pacedUntilMs: max(current.pacedUntilMs, nowMs + wait), backoffMs: current.backoffMs)
        }
        if current.isPaced(nowMs: nowMs) { return current }
        let backoff = current.backoffMs > 0 ? min(maxMs, current.backoffMs * 2) : baseMs
        return State(pacedUntilMs: nowMs + backoff, backoffMs: backoff)
    }

    /// `state` if it is still remembered at `nowMs` (its pace ended less than `memoryMs` ago), else nil.
    public func remembered(_ state: State?, nowMs: Int) -> State? {
        guard let state, nowMs < state.pacedUntilMs + memoryMs else { return nil }
        return state
    }
}
