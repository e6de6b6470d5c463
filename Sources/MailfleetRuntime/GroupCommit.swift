import Foundation
import MailfleetCore

/// Group commit: entries that arrive while commits run wait and go together in the next group,
/// so concurrent callers share one round trip instead of paying one each. The grouping follows
/// `GroupCommitStateMachine`; this class runs the caller's `commit` for each group.
///
/// `commit` gets a group's elements in arrival order and returns one output per element.
///
/// A lock around the state machine rather than an actor, and `@inlinable` throughout: the API's
/// accept path calls it on every request, and calls into a generic actor in another module are
/// not specialized, so each one looked up generic metadata at run time (about 6 % of the API's
/// CPU per request in a profile). Continuations are resumed outside the lock.
public final class GroupCommit<Element: Sendable, Output: Sendable>: @unchecked Sendable {
    @usableFromInline typealias Entry = (element: Element, waiter: CheckedContinuation<Output, any Error>?)

    /// Everything the lock guards.
    @usableFromInline struct State {
        @usableFromInline var machine: GroupCommitStateMachine<Entry>
        @usableFromInline var flushWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        @usableFromInline var nextFlushID = 0

        @inlinable init(machine: GroupCommitStateMachine<Entry>) {
            self.machine = machine
        }
    }

    @usableFromInline let lock = NSLock()
    @usableFromInline var state: State
    @usableFromInline let commit: @Sendable ([Element]) async throws -> [Output]
    @usableFromInline let policy: GroupCommitPolicy

    /// Creates a group commit.
    public init(policy: GroupCommitPolicy, commit: @escaping @Sendable ([Element]) async throws -> [Output]) {
        self.state = State(machine: GroupCommitStateMachine(policy: policy))
        self.commit = commit
        self.policy = policy
    }

    /// Runs `body` on the state under the lock.
    @inlinable func locked<T>(_ body: (inout State) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }

    /// Entries not yet in a group.
    @inlinable public var waiting: Int { locked { $0.machine.waitingCount } }

    /// Flushes not yet done (for tests).
    var flushesWaiting: Int { locked { $0.flushWaiters.count } }

    /// Commits `element` with whatever else is waiting and returns its output, or throws its
    /// group's error.
    @inlinable public func submit(_ element: Element, weight: Int = 1) async throws -> Output {
        // A requeueing group commit puts failed entries back until a later append or flush,
        // so a waiter could wait for ever: it takes `append` only.
        if case .requeue = policy.onFailure { preconditionFailure("submit on a requeueing group commit; use append") }
        return try await withCheckedThrowingContinuation { continuation in
            if let group = locked({ $0.machine.append((element, continuation), weight: weight) }) { start(group) }
        }
    }

    /// Queues `element` for a later group without waiting for it (its output is dropped).
    @inlinable public func append(_ element: Element, weight: Int = 1) {
        if let group = locked({ $0.machine.append((element, nil), weight: weight) }) { start(group) }
    }

    /// Returns when everything waiting or committing at the call has been through a commit.
    @inlinable public func flush() async {
        await withCheckedContinuation { continuation in
            let step = locked { state in
                let id = state.nextFlushID
                state.nextFlushID += 1
                let step = state.machine.flush(id: id)
                if !step.done { state.flushWaiters[id] = continuation }
                return step
            }
            if step.done { continuation.resume() }
            for group in step.start { start(group) }
        }
    }

    @inlinable func start(_ group: GroupCommitStateMachine<Entry>.Group) {
        Task { await self.run(group) }
    }

    @inlinable func run(_ group: GroupCommitStateMachine<Entry>.Group) async {
        let elements = group.entries.map(\.element)
        var putBack: [Entry] = []
        var failure: (any Error)?
        do {
            let outputs = try await commit(elements)
            precondition(outputs.count == elements.count, "a group commit returns one output per element")
            for (entry, output) in zip(group.entries, outputs) { entry.waiter?.resume(returning: output) }
        } catch {
            failure = error
            switch policy.onFailure {
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
        let (completion, flushesDone) = locked { state in
            let completion = state.machine.complete(group.id, putBack: putBack)
            return (completion, completion.flushesDone.compactMap { state.flushWaiters.removeValue(forKey: $0) })
        }
        if let failure {
            for entry in completion.dropped { entry.waiter?.resume(throwing: failure) }
        }
        for waiter in flushesDone { waiter.resume() }
        if let next = completion.start { start(next) }
    }
}
