/// What one scheduler replica may assume about its leader lease, as a pure state machine: it
/// leads only while the lease it last renewed must still be in force. The lease is counted from
/// the moment the renewal was *sent* (Redis starts it later, on receipt), so this side's view
/// always ends first: a replica whose renewals answer late or not at all (a pause, a slow or
/// unreachable Redis) stops leading before a standby can take the lease over.
public struct Leadership: Sendable, Equatable {
    /// How long one acquisition or renewal lasts, in milliseconds.
    public let leaseMs: Int
    /// Until when (ms, the caller's monotonic clock) the last renewal holds; nil when not held.
    public private(set) var validUntilMs: Int?
    /// The role last reported to the caller, so each change is reported once.
    private var reportedLeading = false

    /// A change of this replica's role, for the log and the leader gauge.
    public enum Change: Sendable, Equatable {
        /// It leads from now on.
        case became
        /// It no longer leads: the lease went to another replica or ran out.
        case lost
    }

    /// A replica that does not lead yet.
    public init(leaseMs: Int) {
        self.leaseMs = leaseMs
    }

    /// Whether this replica may act as leader at `nowMs`.
    public func isLeading(atMs nowMs: Int) -> Bool {
        validUntilMs.map { nowMs < $0 } ?? false
    }

    /// Records the answer to an acquisition sent at `sentAtMs`: `held` is whether Redis says this
    /// replica holds the lease. Returns the change of role, if any, as seen at `nowMs`.
    public mutating func acquired(_ held: Bool, sentAtMs: Int, nowMs: Int) -> Change? {
        validUntilMs = held ? sentAtMs + leaseMs : nil
        return check(nowMs: nowMs)
    }

    /// Records that an acquisition got no answer: the last renewal holds until it runs out,
    /// never longer. Returns `.lost` once it has run out.
    public mutating func acquireFailed(nowMs: Int) -> Change? {
        check(nowMs: nowMs)
    }

    /// Reports a lease that ran out by `nowMs` (between acquisitions, e.g. during a long step).
    public mutating func check(nowMs: Int) -> Change? {
        let leading = isLeading(atMs: nowMs)
        if !leading { validUntilMs = nil }
        defer { reportedLeading = leading }
        if leading == reportedLeading { return nil }
        return leading ? .became : .lost
    }
}
