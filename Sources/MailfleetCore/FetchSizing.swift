/// How much a worker lane fetches next, and how long it pauses, after rounds that a provider
/// account's send limits held (a tenant's own limits hold the tenant in the queue instead, see
/// `FairShare.hold`): a lane that claims far more than the limits admit pays a claim, an outcome
/// write and a queue move for each message held. After a round that held some, the next
/// fetch asks for what the last one admitted (at least 1), after a pause until the next token
/// is free; after a round that held none it doubles, up to the batch size. A round whose
/// messages were all held pauses longer after each such round in a row (so lanes of several
/// workers competing for one limit spread out instead of waking together), at most `maxPauseMs`.
public struct FetchSizing: Sendable, Equatable {
    /// The most a lane fetches at once (the worker's batch size).
    public let batchSize: Int
    /// The longest pause, in milliseconds. Short, so other tenants' mail in the same lane is not held up long.
    public let maxPauseMs: Int
    /// What the next fetch asks for.
    public private(set) var next: Int
    /// Rounds in a row that sent nothing because limits held everything.
    public private(set) var heldRounds = 0

    /// Starts at the full batch size.
    public init(batchSize: Int, maxPauseMs: Int = 250) {
        self.batchSize = max(1, batchSize)
        self.maxPauseMs = max(1, maxPauseMs)
        next = self.batchSize
    }

    /// Records a round: `fetched` messages of which limits held `held`; `nextFreeMs` is the
    /// soonest any of the holding limits frees a token. Returns the pause before the next fetch
    /// in milliseconds (0: none); `jitter` in [0, 1) spreads it.
    public mutating func roundEnded(fetched: Int, held: Int, nextFreeMs: Int, jitter: Double) -> Int {
        guard held > 0 else {
            heldRounds = 0
            if fetched >= next { next = min(batchSize, next * 2) }
            return 0
        }
        next = max(1, fetched - held)
        guard held >= fetched else {
            // The tokens are spent for now: fetching again before the next is free would only hold more.
            heldRounds = 0
            return min(maxPauseMs, Int(Double(max(1, nextFreeMs)) * (0.5 + jitter)))
        }
        heldRounds += 1
        let base = max(1, nextFreeMs) << min(heldRounds - 1, 8)
        return min(maxPauseMs, Int(Double(base) * (0.5 + jitter)))
    }
}
