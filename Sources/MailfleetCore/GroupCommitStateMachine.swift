/// The grouping decisions of a group commit, with no I/O: entries wait in arrival order, a group
/// is cut from the front when a commit slot is free, and flushes wait for what they owe.
///
/// `GroupCommit` carries out what this returns (start a group, resume a flush); tests drive it
/// directly. Everything is `@inlinable`: callers in other modules (the API's accept path) get it
/// specialized for their entry type instead of looking up generic metadata on every call.
public struct GroupCommitStateMachine<Entry> {
    /// Entries that commit together.
    public struct Group {
        /// Identifies the group in `complete(_:putBack:)`.
        public let id: Int
        /// The entries, in arrival order.
        public let entries: [Entry]

        @inlinable init(id: Int, entries: [Entry]) {
            self.id = id
            self.entries = entries
        }
    }

    /// What to do after a group finished.
    public struct Completion {
        /// A group to start now.
        public var start: Group?
        /// Flushes that have everything they waited for.
        public var flushesDone: [Int]
        /// Put-back entries dropped because too many were waiting.
        public var dropped: [Entry]

        @inlinable init(start: Group?, flushesDone: [Int], dropped: [Entry]) {
            self.start = start
            self.flushesDone = flushesDone
            self.dropped = dropped
        }
    }

    /// What to do after a flush was asked for.
    public struct FlushStep {
        /// Groups to start now.
        public var start: [Group]
        /// True when there was nothing to wait for: resume the flush at once.
        public var done: Bool

        @inlinable init(start: [Group], done: Bool) {
            self.start = start
            self.done = done
        }
    }

    @usableFromInline struct Waiting {
        @usableFromInline var entry: Entry
        @usableFromInline var weight: Int

        @inlinable init(entry: Entry, weight: Int) {
            self.entry = entry
            self.weight = weight
        }
    }

    /// A flush owes the `ahead` front entries of the queue a commit; once they are all cut,
    /// it waits for every group up to `through` to finish.
    @usableFromInline struct Flush {
        @usableFromInline let id: Int
        @usableFromInline var ahead: Int
        @usableFromInline var through: Int?

        @inlinable init(id: Int, ahead: Int, through: Int?) {
            self.id = id
            self.ahead = ahead
            self.through = through
        }
    }

    /// The policy this follows.
    public let policy: GroupCommitPolicy
    @usableFromInline var waiting: [Waiting] = []
    @usableFromInline var running: [Int] = []
    @usableFromInline var nextGroupID = 0
    @usableFromInline var flushes: [Flush] = []

    /// Creates an empty state.
    @inlinable public init(policy: GroupCommitPolicy) {
        self.policy = policy
    }

    /// Entries not yet in a group.
    @inlinable public var waitingCount: Int { waiting.count }
    /// Groups started and not finished.
    @inlinable public var runningCount: Int { running.count }

    /// Adds an entry; returns a group to start when a slot is free and enough entries wait.
    @inlinable public mutating func append(_ entry: Entry, weight: Int = 1) -> Group? {
        waiting.append(Waiting(entry: entry, weight: weight))
        guard running.count < policy.maxConcurrentGroups, waiting.count >= policy.startAt else { return nil }
        return cut()
    }

    /// Asks that everything waiting now be committed and every running group finish: the
    /// flush `id` is done when those groups have finished (committed, failed or put back).
    @inlinable public mutating func flush(id: Int) -> FlushStep {
        var flush = Flush(id: id, ahead: waiting.count, through: nil)
        if flush.ahead == 0 { flush.through = nextGroupID - 1 }
        if Self.isDone(flush, running: running) { return FlushStep(start: [], done: true) }
        flushes.append(flush)
        var started: [Group] = []
        while running.count < policy.maxConcurrentGroups && !waiting.isEmpty { started.append(cut()) }
        return FlushStep(start: started, done: false)
    }

    /// Records that group `id` finished. `putBack` (for `.requeue`) returns its entries to the
    /// front of the queue, each weighing 1 (requeueing commits have no weight cap).
    @inlinable public mutating func complete(_ id: Int, putBack: [Entry] = []) -> Completion {
        if let index = running.firstIndex(of: id) { running.remove(at: index) }
        var dropped: [Entry] = []
        if !putBack.isEmpty {
            waiting.insert(contentsOf: putBack.map { Waiting(entry: $0, weight: 1) }, at: 0)
            for index in flushes.indices where flushes[index].through == nil { flushes[index].ahead += putBack.count }
            if case .requeue(let limit) = policy.onFailure, waiting.count > limit {
                let excess = waiting.count - limit
                dropped = waiting[..<excess].map(\.entry)
                waiting.removeFirst(excess)
                for index in flushes.indices where flushes[index].through == nil {
                    flushes[index].ahead -= excess
                    if flushes[index].ahead <= 0 {
                        flushes[index].ahead = 0
                        flushes[index].through = nextGroupID - 1
                    }
                }
            }
        }
        var done: [Int] = []
        if !flushes.isEmpty {
            let running = running
            flushes.removeAll { flush in
                guard Self.isDone(flush, running: running) else { return false }
                done.append(flush.id)
                return true
            }
        }
        var start: Group?
        if running.count < policy.maxConcurrentGroups && !waiting.isEmpty {
            // A put-back group does not restart itself: the next append or flush does, so a
            // failing commit is not retried in a tight loop.
            let owed = flushes.contains { $0.through == nil }
            if owed || (putBack.isEmpty && waiting.count >= policy.startAt) { start = cut() }
        }
        return Completion(start: start, flushesDone: done, dropped: dropped)
    }

    @inlinable static func isDone(_ flush: Flush, running: [Int]) -> Bool {
        guard let through = flush.through else { return false }
        return running.allSatisfy { $0 > through }
    }

    @inlinable mutating func cut() -> Group {
        var count = 0
        var weight = 0
        while count < waiting.count && (count == 0 || waiting[count].weight <= policy.maxGroupWeight - weight) {
            weight += waiting[count].weight
            count += 1
        }
        let id = nextGroupID
        nextGroupID += 1
        let entries = waiting[..<count].map(\.entry)
        waiting.removeFirst(count)
        running.append(id)
        for index in flushes.indices where flushes[index].through == nil {
            flushes[index].ahead -= count
            if flushes[index].ahead <= 0 {
                flushes[index].ahead = 0
                flushes[index].through = id
            }
        }
        return Group(id: id, entries: entries)
    }
}

extension GroupCommitStateMachine: Sendable where Entry: Sendable {}
extension GroupCommitStateMachine.Group: Sendable where Entry: Sendable {}
extension GroupCommitStateMachine.Waiting: Sendable where Entry: Sendable {}
extension GroupCommitStateMachine.Flush: Sendable {}
