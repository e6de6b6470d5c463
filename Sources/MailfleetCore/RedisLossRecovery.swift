/// The leading scheduler's recovery from a Redis that lost its data (a flush, a failover to an
/// empty replica, a restart without persistence): a pure state machine over what the generation
/// markers in Redis say and what each reconciliation pass found. The scheduler does the I/O.
///
/// Every partition holds a marker, `recovering:<generation>` while a recovery runs and
/// `ready:<generation>` once Redis again holds everything Postgres says is unfinished. A missing
/// marker means that Redis (or the node holding that partition) lost its data, or is new.
public struct RedisLossRecovery: Sendable, Equatable {
    /// What the generation markers in Redis say, all partitions taken together.
    public enum Marker: Sendable, Equatable {
        /// Some partition has no marker (or one that does not parse): its data is gone.
        case missing
        /// A recovery under this generation started and has not finished.
        case recovering(generation: String)
        /// Redis holds everything unfinished, as of this generation.
        case ready(generation: String)

        /// The marker of one partition as stored in Redis (nil: the key does not exist).
        public init(stored: String?) {
            guard let stored, let colon = stored.firstIndex(of: ":") else {
                self = .missing
                return
            }
            let generation = String(stored[stored.index(after: colon)...])
            switch stored[..<colon] {
            case "recovering" where !generation.isEmpty: self = .recovering(generation: generation)
            case "ready" where !generation.isEmpty: self = .ready(generation: generation)
            default: self = .missing
            }
        }

        /// The value stored in Redis; nil for `missing`.
        public var stored: String? {
            switch self {
            case .missing: nil
            case .recovering(let generation): "recovering:\(generation)"
            case .ready(let generation): "ready:\(generation)"
            }
        }

        /// The markers of all partitions as one: any missing one wins (that partition lost its
        /// entries), then any unfinished recovery, else ready.
        public static func combined(_ markers: [Marker]) -> Marker {
            if markers.isEmpty || markers.contains(.missing) { return .missing }
            for case .recovering(let generation) in markers { return .recovering(generation: generation) }
            return markers[0]
        }
    }

    /// What the scheduler does next.
    public enum Step: Sendable, Equatable {
        /// Nothing beyond the usual age-based reconciliation.
        case watch
        /// Start a recovery: mark every partition `recovering` under `generation`, take the
        /// cutoff (Postgres's clock), then run passes. `lost` is true when a marker was missing
        /// (count and log the loss), false when taking over a recovery another leader left unfinished.
        case begin(generation: String, lost: Bool)
        /// Run the next reconciliation pass without the age limit.
        case pass
        /// A pass found nothing: mark every partition `ready` under `generation` (only where it
        /// still says `recovering` under it) and go back to watching.
        case finish(generation: String)
    }

    /// The generation of the recovery this scheduler runs; nil while it only watches.
    public private(set) var recovering: String?

    /// A scheduler that has just become leader: it watches until the markers say otherwise.
    public init() {}

    /// The markers were read. `fresh` is a new unique generation, used if a recovery begins.
    public mutating func observed(_ marker: Marker, fresh: String) -> Step {
        switch marker {
        case .missing:
            // Lost again even if a recovery runs: entries its passes enqueued are gone too.
            recovering = fresh
            return .begin(generation: fresh, lost: true)
        case .recovering(let generation) where generation == recovering:
            return .pass
        case .recovering:
            // A leader died (or lost the lease) mid-recovery: take it over under a generation of
            // our own, so its late `finish` cannot mark the partitions ready.
            recovering = fresh
            return .begin(generation: fresh, lost: false)
        case .ready:
            // Finished (by us or by another leader since): back to watching.
            recovering = nil
            return .watch
        }
    }

    /// A recovery pass re-enqueued `found` messages.
    public mutating func passFinished(found: Int) -> Step {
        guard let generation = recovering else { return .watch }
        // Only an empty pass ends it: a short one may have skipped rows locked by a worker.
        if found > 0 { return .pass }
        recovering = nil
        return .finish(generation: generation)
    }
}
