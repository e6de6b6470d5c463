/// Group commit: entries that arrive while commits run wait and go together in the next group,
/// so concurrent callers share one round trip instead of paying one each. The grouping follows
/// `GroupCommitStateMachine`; this actor runs the caller's `commit` for each group.
///
/// `commit` gets a group's elements in arrival order and returns one output per element.
public actor GroupCommit<Element: Sendable, Output: Sendable> {
    private typealias Entry = (element: Element, waiter: CheckedContinuation<Output, any Error>?)

    private var state: GroupCommitStateMachine<Entry>
    private let commit: @Sendable ([Element]) async throws -> [Output]
    private var flushWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextFlushID = 0

    /// Creates a group commit.
    public init(policy: GroupCommitPolicy, commit: @escaping @Sendable ([Element]) async throws -> [Output]) {
        self.state = GroupCommitStateMachine(policy: policy)
        self.commit = commit
    }

    /// Entries not yet in a group.
    public var waiting: Int { state.waitingCount }

    /// Flushes not yet done (for tests).
    var flushesWaiting: Int { flushWaiters.count }

    /// Commits `element` with whatever else is waiting and returns its output, or throws its
    /// group's error.
    public func submit(_ element: Element, weight: Int = 1) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            if let group = state.append((element, continuation), weight: weight) { start(group) }
        }
    }

    /// Queues `element` for a later group without waiting for it (its output is dropped).
    public func append(_ element: Element, weight: Int = 1) {
        if let group = state.append((element, nil), weight: weight) { start(group) }
    }

    /// Returns when everything waiting or committing at the call has been through a commit.
    public func flush() async {
        await withCheckedContinuation { continuation in
            let id = nextFlushID
            nextFlushID += 1
            let step = state.flush(id: id)
            if step.done {
                continuation.resume()
            } else {
                flushWaiters[id] = continuation
            }
            for group in step.start { start(group) }
        }
    }

    private func start(_ group: GroupCommitStateMachine<Entry>.Group) {
        Task { await self.run(group) }
    }

    private func run(_ group: GroupCommitStateMachine<Entry>.Group) async {
        let elements = group.entries.map(\.element)
        var putBack: [Entry] = []
        var failure: (any Error)?
        do {
            let outputs = try await commit(elements)
            precondition(outputs.count == elements.count, "a group commit returns one output per element")
            for (entry, output) in zip(group.entries, outputs) { entry.waiter?.resume(returning: output) }
        } catch {
            failure = error
            switch state.policy.onFailure {
            case .retryEachAlone where elements.count > 1:
                // One entry must not fail its neighbours: commit them one by one instead.
                for entry in group.entries {
                    do {
                        let output = try await commit([entry.element])
                        precondition(output.count == 1, "a group commit returns one output per element")
                        entry.waiter?.resume(returning: output[0])
                    } catch {
                        entry.waiter?.resume(throwing: error)
                    }
                }
            case .requeue:
                putBack = group.entries
            case .failGroup, .retryEachAlone:
                for entry in group.entries { entry.waiter?.resume(throwing: error) }
            }
        }
        let completion = state.complete(group.id, putBack: putBack)
        if let failure {
            for entry in completion.dropped { entry.waiter?.resume(throwing: failure) }
        }
        for id in completion.flushesDone { flushWaiters.removeValue(forKey: id)?.resume() }
        if let next = completion.start { start(next) }
    }
}
