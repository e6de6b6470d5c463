/// A dependency's outage (Postgres, Redis) as one process loop sees it, so the loop logs the
/// start and the end once instead of every failed attempt, and backs off while it lasts.
public struct Outage: Sendable, Equatable {
    /// When the first failure of the outage happened (ms, the caller's clock); nil when none.
    public private(set) var startedAtMs: Int?
    /// Failed attempts in this outage.
    public private(set) var failures = 0
    /// The shortest and longest pause between attempts while it lasts.
    public let minimumDelayMs: Int, maximumDelayMs: Int

    /// What ended when the dependency answered again.
    public struct Ended: Sendable, Equatable {
        /// How long it lasted.
        public var durationMs: Int
        /// Attempts that failed meanwhile.
        public var failures: Int
        /// Creates the summary of an outage.
        public init(durationMs: Int, failures: Int) {
            self.durationMs = durationMs
            self.failures = failures
        }
    }

    /// No outage; while one lasts, pauses grow from `minimumDelayMs` and double up to `maximumDelayMs`.
    public init(minimumDelayMs: Int = 100, maximumDelayMs: Int = 5000) {
        self.minimumDelayMs = minimumDelayMs
        self.maximumDelayMs = maximumDelayMs
    }

    /// Whether an outage is going on.
    public var isActive: Bool { startedAtMs != nil }

    /// Records a failed attempt at `nowMs`; true when it begins an outage (the one to log).
    public mutating func failed(atMs nowMs: Int) -> Bool {
        failures += 1
        guard startedAtMs == nil else { return false }
        startedAtMs = nowMs
        return true
    }

    /// Records an answer at `nowMs`; returns the outage it ended, if one was going on.
    public mutating func succeeded(atMs nowMs: Int) -> Ended? {
        defer {
            startedAtMs = nil
            failures = 0
        }
        return startedAtMs.map { Ended(durationMs: nowMs - $0, failures: failures) }
    }

    /// The pause before the next attempt: 0 without an outage, else the minimum doubled per
    /// failure after the first, capped at the maximum.
    public var delayMs: Int {
        guard failures > 0 else { return 0 }
        let doublings = min(failures - 1, 30)
        return min(maximumDelayMs, minimumDelayMs << doublings)
    }
}
