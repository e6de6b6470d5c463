import MailfleetCore
@testable import MailfleetRuntime
import Testing

/// A commit the test steers: it reports every group it gets, holds them until released, and
/// fails any group holding a number from `failing`.
actor ScriptedCommit {
    struct Refused: Error, Equatable {}

    nonisolated let started: AsyncStream<[Int]>
    private let startedContinuation: AsyncStream<[Int]>.Continuation
    private let failing: Set<Int>
    private var holding: Bool
    private var held: [CheckedContinuation<Void, Never>] = []
    private var running = 0
    private(set) var groups: [[Int]] = []
    private(set) var mostRunning = 0

    init(holding: Bool, failing: Set<Int> = []) {
        (started, startedContinuation) = AsyncStream.makeStream()
        self.holding = holding
        self.failing = failing
    }

    func commit(_ group: [Int]) async throws -> [Int] {
        groups.append(group)
        running += 1
        mostRunning = max(mostRunning, running)
        startedContinuation.yield(group)
        if holding { await withCheckedContinuation { held.append($0) } }
        running -= 1
        if group.contains(where: failing.contains) { throw Refused() }
        return group.map { $0 * 10 }
    }

    /// Lets held groups and every later one through.
    func release() {
        holding = false
        for continuation in held { continuation.resume() }
        held = []
    }
}

/// Waits (with a deadline) until `condition` holds.
func eventually(_ condition: @Sendable () async -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(5)
    while !(await condition()) {
        guard ContinuousClock.now < deadline else { throw CancellationError() }
        try await Task.sleep(for: .milliseconds(1))
    }
}

@Suite struct GroupCommitTests {
    @Test func anErrorReachesExactlyTheWaitersOfItsGroup() async throws {
        let script = ScriptedCommit(holding: true, failing: [3])
        let commits = GroupCommit<Int, Int>(policy: GroupCommitPolicy()) { try await script.commit($0) }
        var started = script.started.makeAsyncIterator()
        let one = Task { try? await commits.submit(1) }
        #expect(await started.next() == [1])
        let two = Task { try? await commits.submit(2) }
        let three = Task { try? await commits.submit(3) }
        try await eventually { commits.waiting == 2 }
        await script.release()
        #expect(await one.value == 10)
        let failed = (await two.value, await three.value)
        #expect(failed.0 == nil && failed.1 == nil)
        #expect(try await commits.submit(4) == 40)
        #expect(Set(await script.groups.dropFirst().first ?? []) == [2, 3])
        #expect(await script.groups.count == 3)
    }

    @Test func aFailedGroupIsRetriedOneByOne() async throws {
        let script = ScriptedCommit(holding: true, failing: [3])
        let commits = GroupCommit<Int, Int>(policy: GroupCommitPolicy(onFailure: .retryEachAlone)) { try await script.commit($0) }
        var started = script.started.makeAsyncIterator()
        let one = Task { try await commits.submit(1) }
        #expect(await started.next() == [1])
        let others = (2...4).map { value in Task { try? await commits.submit(value) } }
        try await eventually { commits.waiting == 3 }
        await script.release()
        #expect(try await one.value == 10)
        var outcomes: [Int?] = []
        for task in others { outcomes.append(await task.value) }
        #expect(outcomes == [20, nil, 40])
        let groups = await script.groups
        #expect(groups.count == 5 && groups[1].count == 3 && groups[2...].allSatisfy { $0.count == 1 })
    }

    @Test func noMoreCommitsRunThanTheLimit() async throws {
        let script = ScriptedCommit(holding: true)
        let commits = GroupCommit<Int, Int>(policy: GroupCommitPolicy(maxConcurrentGroups: 2)) { try await script.commit($0) }
        var started = script.started.makeAsyncIterator()
        var tasks = (1...2).map { value in Task { try await commits.submit(value) } }
        _ = await started.next()
        _ = await started.next()
        tasks += (3...5).map { value in Task { try await commits.submit(value) } }
        try await eventually { commits.waiting == 3 }
        await script.release()
        var results: [Int] = []
        for task in tasks { results.append(try await task.value) }
        #expect(results == [10, 20, 30, 40, 50])
        let groups = await script.groups
        #expect(await script.mostRunning == 2)
        #expect(groups.count == 3 && Set(groups[2]) == [3, 4, 5])
    }

    @Test func aGroupCarriesNoMoreThanItsWeight() async throws {
        let script = ScriptedCommit(holding: true)
        let commits = GroupCommit<Int, Int>(policy: GroupCommitPolicy(maxGroupWeight: 5)) { try await script.commit($0) }
        var started = script.started.makeAsyncIterator()
        let first = Task { try await commits.submit(0, weight: 5) }
        _ = await started.next()
        let rest = (1...3).map { value in Task { try await commits.submit(value, weight: 2) } }
        try await eventually { commits.waiting == 3 }
        await script.release()
        _ = try await first.value
        for task in rest { _ = try await task.value }
        #expect(await script.groups.map(\.count) == [1, 2, 1])
    }

    /// The tracker's event buffer: writes on a flush or at a threshold, one at a time. The final
    /// flush at shutdown comes while the periodic flush's write still runs, and must still
    /// write what arrived meanwhile instead of returning early.
    @Test func theFinalFlushLeavesNothingBehindWhileAnotherFlushRuns() async throws {
        let script = ScriptedCommit(holding: true)
        let events = GroupCommit<Int, Int>(policy: GroupCommitPolicy(startAt: 1000, onFailure: .requeue(keepingAtMost: 100_000))) {
            try await script.commit($0)
        }
        var started = script.started.makeAsyncIterator()
        for value in 1...3 { events.append(value) }
        let periodic = Task { await events.flush() }
        #expect(await started.next() == [1, 2, 3])
        for value in 4...5 { events.append(value) }
        let final = Task { await events.flush() }
        try await eventually { events.flushesWaiting == 2 }
        await script.release()
        await final.value
        await periodic.value
        #expect(await script.groups == [[1, 2, 3], [4, 5]])
        #expect(events.waiting == 0)
    }

    @Test func aFailedWriteIsKeptForTheNextFlush() async throws {
        let script = ScriptedCommit(holding: false, failing: [2])
        let events = GroupCommit<Int, Int>(policy: GroupCommitPolicy(startAt: 1000, onFailure: .requeue(keepingAtMost: 100_000))) {
            try await script.commit($0)
        }
        for value in 1...3 { events.append(value) }
        await events.flush()
        #expect(events.waiting == 3)
        await events.flush()
        #expect(await script.groups == [[1, 2, 3], [1, 2, 3]])
    }
}
