extension CircuitBreaker {
    /// The breaker's phase; the raw values are what Redis stores.
    public enum Phase: Int, Sendable, Equatable, CaseIterable {
        /// Calls go through and their outcomes are counted.
        case closed = 0
        /// Calls are refused until the open period ends.
        case open = 1
        /// A few probe calls decide whether to close or open again.
        case halfOpen = 2

        /// The name used in metrics and listings.
        public var name: String {
            switch self {
            case .closed: return "closed"
            case .open: return "open"
            case .halfOpen: return "half_open"
            }
        }
    }

    /// Everything the breaker remembers; the Redis twin keeps the same fields in a hash.
    public struct State: Sendable, Equatable {
        /// The current phase.
        public var phase: Phase
        /// The last outcomes while closed, oldest first: `true` for a failure (or a slow call).
        public var window: [Bool]
        /// Consecutive trips without a successful close; sets the length of the open period.
        public var trips: Int
        /// When the open period ends (0 unless open).
        public var openUntilMs: Int
        /// Probes given out in this half-open period.
        public var probesGranted: Int
        /// Probes that succeeded in this half-open period.
        public var probeSuccesses: Int
        /// When the last probe was given out (0 if none).
        public var lastProbeAtMs: Int
        /// When the phase last changed (0 if never).
        public var changedAtMs: Int

        /// Creates a state; the default is closed with nothing counted.
        public init(
            phase: Phase = .closed, window: [Bool] = [], trips: Int = 0, openUntilMs: Int = 0, probesGranted: Int = 0,
            probeSuccesses: Int = 0, lastProbeAtMs: Int = 0, changedAtMs: Int = 0
        ) {
            self.phase = phase
            self.window = window
            self.trips = trips
            self.openUntilMs = openUntilMs
            self.probesGranted = probesGranted
            self.probeSuccesses = probeSuccesses
            self.lastProbeAtMs = lastProbeAtMs
            self.changedAtMs = changedAtMs
        }
    }
}
