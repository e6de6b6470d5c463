/// Which lanes of a worker poll the queue while it is empty. A lane whose sweep of the
/// partitions found nothing becomes the *watcher* when there is none: it sleeps the idle delay
/// and sweeps again. Any other lane that finds nothing *waits* without polling. When a lane
/// finds work, every waiting lane is woken to sweep at once. An idle worker thus sweeps the
/// queue once per idle delay instead of once per lane per idle delay, and work that arrives
/// is seen by the watcher's next sweep and reaches the other lanes right after.
///
/// `IdleLanes` in the worker carries it out; this is the decision alone.
public struct IdleWatch: Sendable, Equatable {
    /// What a lane that found nothing does next.
    public enum Turn: Sendable, Equatable {
        /// Sleep the idle delay, then sweep again.
        case watch
        /// Wait until woken.
        case wait
    }

    /// The lane that polls while the others wait, if any.
    public private(set) var watcher: Int?
    /// Lanes waiting to be woken, in the order they began to wait.
    public private(set) var waiting: [Int] = []
    /// Set once the worker stops: no lane waits any more.
    public private(set) var stopped = false

    /// No watcher, nobody waiting.
    public init() {}

    /// `lane`'s sweep found nothing: it watches if no other lane does (or it already does),
    /// else it waits. After `stop()` every lane watches, so it sees the stop at its next check.
    public mutating func foundNothing(lane: Int) -> Turn {
        if stopped { return .watch }
        if watcher == nil || watcher == lane {
            watcher = lane
            return .watch
        }
        if !waiting.contains(lane) { waiting.append(lane) }
        return .wait
    }

    /// `lane`'s sweep found work: it is no longer the watcher (its round may take a while; a
    /// lane that next finds nothing takes over), and every waiting lane is woken. Returns them.
    public mutating func foundWork(lane: Int) -> [Int] {
        if watcher == lane { watcher = nil }
        defer { waiting = [] }
        return waiting
    }

    /// The worker stops: every waiting lane is woken (returned) and none waits again.
    public mutating func stop() -> [Int] {
        stopped = true
        watcher = nil
        defer { waiting = [] }
        return waiting
    }
}
