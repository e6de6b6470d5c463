/// How a `GroupCommit` groups its entries and what it does when a group's commit fails.
public struct GroupCommitPolicy: Sendable {
    /// What happens to the entries of a group whose commit threw.
    public enum Failure: Sendable, Equatable {
        /// Every entry of the group gets the error.
        case failGroup
        /// The entries are committed again one by one, so that one bad entry fails alone.
        case retryEachAlone
        /// The entries go back to the front of the queue for the next group, dropping the oldest
        /// beyond `keepingAtMost` waiting entries. Needs groups without a weight cap: a capped
        /// group put back first would be the only one retried while its commit keeps failing.
        case requeue(keepingAtMost: Int)
    }

    /// Groups whose commits may run at the same time.
    public var maxConcurrentGroups: Int
    /// The most weight one group carries; an entry heavier than this still goes, alone.
    public var maxGroupWeight: Int
    /// Waiting entries that start a group without a flush: 1 commits at once (batches grow only
    /// with concurrency); more waits for that many or for `flush()`.
    public var startAt: Int
    /// What a failed group does.
    public var onFailure: Failure

    /// Creates a policy; the defaults commit at once, one group at a time, with no weight cap.
    public init(maxConcurrentGroups: Int = 1, maxGroupWeight: Int = .max, startAt: Int = 1, onFailure: Failure = .failGroup) {
        precondition(maxConcurrentGroups >= 1 && maxGroupWeight >= 1 && startAt >= 1)
        if case .requeue(let limit) = onFailure {
            precondition(maxGroupWeight == .max && limit >= 1, "a requeueing group commit takes every waiting entry")
        }
        self.maxConcurrentGroups = maxConcurrentGroups
        self.maxGroupWeight = maxGroupWeight
        self.startAt = startAt
        self.onFailure = onFailure
    }
}
