/// The circuit breaker of one provider account: closed → open → half-open → closed (or open again).
///
/// A pure state machine: the caller passes the time in (milliseconds) and carries out what it
/// answers, so the same arithmetic runs here (a worker's local breaker) and in Redis
/// (`CircuitBreakerStore`, the fleet-wide twin); both are tested against each other.
///
/// - Closed: every call goes through; the last `windowSize` outcomes are kept (a count-based
///   sliding window). Once it holds at least `minimumCalls`, a failure rate at or above
///   `failureRatePercent` trips it open. A call slower than `slowCallMs` counts as a failure.
/// - Open: calls are refused until the open period ends; each consecutive trip doubles the period
///   (from `openBaseMs` up to `openMaxMs`).
/// - Half-open: `halfOpenProbes` probe calls go through; when all of them succeed it closes (and
///   the open period starts again from its base), and any failure opens it again for longer.
///   Probes not reported within `probeTimeoutMs` (a worker died mid-call) are given out again.
public struct CircuitBreaker: Sendable, Equatable {
    /// The thresholds and periods.
    public var configuration: Configuration
    /// The current state.
    public var state: State

    /// While every probe of a half-open breaker is out, a refused caller is told to ask again
    /// this soon (ms), or when the probes time out if that is sooner: the probes may close the
    /// breaker any moment, and a batch waiting for the 30 s probe timeout would wait for nothing.
    public static let halfOpenRecheckMs = 1_000

    /// Creates a breaker in `state` (closed and empty by default).
    public init(configuration: Configuration = Configuration(), state: State = State()) {
        self.configuration = configuration
        self.state = state
    }

    /// The result of one call, as far as the provider's health is concerned.
    public enum Outcome: Sendable, Equatable {
        /// The provider answered (even if it refused some recipients for good).
        case success
        /// The provider did not answer usefully: connection error, timeout, 5xx.
        case failure
    }

    /// What to do with one call.
    public enum Decision: Sendable, Equatable {
        /// Call the provider.
        case call
        /// Call the provider as one of the half-open probes, and record the outcome.
        case probe
        /// Do not call; the breaker may let a call through again at `retryAtMs`.
        case refuse(retryAtMs: Int)
    }

    /// A change of phase, for metrics and logs.
    public struct Transition: Sendable, Equatable {
        /// The phase left.
        public var from: Phase
        /// The phase entered.
        public var to: Phase
        /// When it happened.
        public var atMs: Int

        /// Creates a transition.
        public init(from: Phase, to: Phase, atMs: Int) {
            self.from = from
            self.to = to
            self.atMs = atMs
        }
    }

    /// The answer to `mayCall`: the decision and the transition it made, if any (open → half-open).
    public struct Permission: Sendable, Equatable {
        /// What to do with the call.
        public var decision: Decision
        /// The phase change asking caused.
        public var transition: Transition?

        /// Creates a permission.
        public init(decision: Decision, transition: Transition? = nil) {
            self.decision = decision
            self.transition = transition
        }
    }

    /// Whether a call may be made at `nowMs`; counts a granted probe.
    public mutating func mayCall(nowMs: Int) -> Permission {
        var transition: Transition?
        switch state.phase {
        case .closed:
            return Permission(decision: .call)
        case .open:
            if nowMs < state.openUntilMs { return Permission(decision: .refuse(retryAtMs: state.openUntilMs)) }
            transition = enter(.halfOpen, atMs: nowMs)
        case .halfOpen:
            break
        }
        // Probes granted but never reported (their worker died) are given out again.
        if state.probesGranted >= configuration.halfOpenProbes, nowMs >= state.lastProbeAtMs + configuration.probeTimeoutMs {
            state.probesGranted = state.probeSuccesses
        }
        guard state.probesGranted < configuration.halfOpenProbes else {
            // The probes may close it any moment: ask again soon, not only when they time out.
            let retryAt = min(state.lastProbeAtMs + configuration.probeTimeoutMs, nowMs + Self.halfOpenRecheckMs)
            return Permission(decision: .refuse(retryAtMs: retryAt), transition: transition)
        }
        state.probesGranted += 1
        state.lastProbeAtMs = nowMs
        return Permission(decision: .probe, transition: transition)
    }

    /// Records a call's outcome and how long it took; returns the transition it caused, if any.
    /// Outcomes arriving while open (calls started before the trip) change nothing.
    @discardableResult
    public mutating func record(_ outcome: Outcome, durationMs: Int, nowMs: Int) -> Transition? {
        let failed = outcome == .failure || durationMs >= configuration.slowCallMs
        switch state.phase {
        case .open:
            return nil
        case .halfOpen:
            if failed { return trip(atMs: nowMs) }
            state.probeSuccesses += 1
            guard state.probeSuccesses >= configuration.halfOpenProbes else { return nil }
            state.trips = 0
            return enter(.closed, atMs: nowMs)
        case .closed:
            state.window.append(failed)
            if state.window.count > configuration.windowSize { state.window.removeFirst(state.window.count - configuration.windowSize) }
            let calls = state.window.count
            let failures = state.window.lazy.filter { $0 }.count
            // Integer percentages, so the Lua twin computes exactly the same answer.
            guard calls >= configuration.minimumCalls, failures * 100 >= configuration.failureRatePercent * calls else { return nil }
            return trip(atMs: nowMs)
        }
    }

    /// Opens the breaker for the period of one more trip.
    private mutating func trip(atMs nowMs: Int) -> Transition {
        state.trips += 1
        let transition = enter(.open, atMs: nowMs)
        state.openUntilMs = nowMs + configuration.openPeriodMs(trips: state.trips)
        return transition
    }

    /// Moves to `phase`, clearing what the new phase counts afresh.
    private mutating func enter(_ phase: Phase, atMs nowMs: Int) -> Transition {
        let transition = Transition(from: state.phase, to: phase, atMs: nowMs)
        state.phase = phase
        state.window = []
        state.openUntilMs = 0
        state.probesGranted = 0
        state.probeSuccesses = 0
        state.lastProbeAtMs = 0
        state.changedAtMs = nowMs
        return transition
    }
}
