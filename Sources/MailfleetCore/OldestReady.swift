import Foundation

/// The oldest ready entry of each lane, folded from the heads of the partitions' ready lists
/// (the next entry each list hands out). A message id is a UUIDv7, so an entry's time is when
/// the API accepted its message: a scheduled send or a retry counts from acceptance too, not
/// from when it became due (the queue entry does not carry that).
public struct OldestReady: Sendable, Equatable {
    /// When the oldest transactional head was accepted, nil when no list has one.
    public private(set) var transactional: Date?
    /// When the oldest bulk head was accepted, nil when no list has one.
    public private(set) var bulk: Date?

    /// No entries seen yet.
    public init() {}

    /// Takes in the head of one ready list. Ids of another version carry no time and are not
    /// counted.
    public mutating func observe(id: UUID, lane: Priority) {
        guard let accepted = id.timeOrderedDate else { return }
        switch lane {
        case .transactional: transactional = min(transactional ?? accepted, accepted)
        case .bulk: bulk = min(bulk ?? accepted, accepted)
        }
    }

    /// Seconds the oldest entry of `lane` has been waiting at `now`: 0 for an empty lane, and
    /// never negative (the API's clock may run ahead of the scheduler's).
    public func ageSeconds(_ lane: Priority, at now: Date) -> Double {
        guard let accepted = lane == .transactional ? transactional : bulk else { return 0 }
        return max(0, now.timeIntervalSince(accepted))
    }
}
