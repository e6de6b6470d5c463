import MailfleetCore
import Testing

@Suite struct GroupCommitStateMachineTests {
    typealias Machine = GroupCommitStateMachine<String>

    @Test func aLoneEntryStartsAtOnce() {
        var machine = Machine(policy: GroupCommitPolicy())
        #expect(machine.append("a")?.entries == ["a"])
        #expect(machine.runningCount == 1 && machine.waitingCount == 0)
    }

    @Test func entriesArrivingDuringACommitGoTogetherInTheNext() throws {
        var machine = Machine(policy: GroupCommitPolicy())
        let firstStep = machine.append("a")
        let first = try #require(firstStep)
        #expect(machine.append("b") == nil)
        #expect(machine.append("c") == nil)
        let completion = machine.complete(first.id)
        #expect(completion.start?.entries == ["b", "c"])
        #expect(completion.flushesDone.isEmpty && completion.dropped.isEmpty)
    }

    @Test func noMoreGroupsRunThanTheLimit() throws {
        var machine = Machine(policy: GroupCommitPolicy(maxConcurrentGroups: 2))
        let firstStep = machine.append("a")
        let first = try #require(firstStep)
        #expect(machine.append("b")?.entries == ["b"])
        #expect(machine.append("c") == nil)
        #expect(machine.append("d") == nil)
        #expect(machine.runningCount == 2 && machine.waitingCount == 2)
        #expect(machine.complete(first.id).start?.entries == ["c", "d"])
        #expect(machine.runningCount == 2)
    }

    @Test func aGroupCarriesNoMoreThanItsWeightAndAHeavyEntryGoesAlone() throws {
        var machine = Machine(policy: GroupCommitPolicy(maxGroupWeight: 10))
        let groupStep = machine.append("a", weight: 4)
        var group = try #require(groupStep)
        for (entry, weight) in [("b", 4), ("c", 4), ("d", 20), ("e", 1)] { #expect(machine.append(entry, weight: weight) == nil) }
        var cuts: [[String]] = []
        while let next = machine.complete(group.id).start {
            cuts.append(next.entries)
            group = next
        }
        #expect(cuts == [["b", "c"], ["d"], ["e"]])
    }

    @Test func aThresholdWaitsForThatManyEntriesOrAFlush() throws {
        var machine = Machine(policy: GroupCommitPolicy(startAt: 3))
        #expect(machine.append("a") == nil)
        #expect(machine.append("b") == nil)
        let fullStep = machine.append("c")
        let full = try #require(fullStep)
        #expect(full.entries == ["a", "b", "c"])
        #expect(machine.complete(full.id).start == nil)
        #expect(machine.append("d") == nil)
        let step = machine.flush(id: 7)
        #expect(!step.done && step.start.map(\.entries) == [["d"]])
        let completion = machine.complete(step.start[0].id)
        #expect(completion.flushesDone == [7] && completion.start == nil)
    }

    @Test func aFlushWithNothingToDoIsDoneAtOnce() {
        var machine = Machine(policy: GroupCommitPolicy(startAt: 100))
        let step = machine.flush(id: 1)
        #expect(step.done && step.start.isEmpty)
    }

    @Test func aFlushWaitsForTheRunningGroupThenCommitsWhatWasWaiting() throws {
        var machine = Machine(policy: GroupCommitPolicy(startAt: 100))
        #expect(machine.append("a") == nil)
        let periodic = machine.flush(id: 1)
        let running = try #require(periodic.start.first)
        #expect(machine.append("b") == nil)
        // The final flush comes while the periodic one's group still runs.
        let final = machine.flush(id: 2)
        #expect(!final.done && final.start.isEmpty)
        let first = machine.complete(running.id)
        #expect(first.flushesDone == [1])
        let second = try #require(first.start)
        #expect(second.entries == ["b"])
        #expect(machine.complete(second.id).flushesDone == [2])
        #expect(machine.waitingCount == 0 && machine.runningCount == 0)
    }

    @Test func aFlushDoesNotWaitForEntriesThatArriveAfterIt() throws {
        var machine = Machine(policy: GroupCommitPolicy())
        let groupStep = machine.append("a")
        let group = try #require(groupStep)
        #expect(!machine.flush(id: 1).done)
        #expect(machine.append("b") == nil)
        let completion = machine.complete(group.id)
        #expect(completion.flushesDone == [1] && completion.start?.entries == ["b"])
    }

    @Test func putBackEntriesGoFirstAndTheOldestAreDroppedBeyondTheLimit() throws {
        var machine = Machine(policy: GroupCommitPolicy(startAt: 2, onFailure: .requeue(keepingAtMost: 3)))
        #expect(machine.append("a") == nil)
        let failedStep = machine.append("b")
        let failed = try #require(failedStep)
        #expect(machine.append("c") == nil)
        #expect(machine.append("d") == nil)
        let completion = machine.complete(failed.id, putBack: failed.entries)
        #expect(completion.dropped == ["a"])
        // A failed group does not restart itself: the next flush (or append) retries it.
        #expect(completion.start == nil)
        let retry = machine.flush(id: 1)
        #expect(retry.start.map(\.entries) == [["b", "c", "d"]])
    }

    @Test func aFlushRetriesWhatWasPutBackBeforeItOnlyOnce() throws {
        var machine = Machine(policy: GroupCommitPolicy(startAt: 100, onFailure: .requeue(keepingAtMost: 100)))
        #expect(machine.append("a") == nil)
        let firstStep = machine.flush(id: 1).start.first
        let first = try #require(firstStep)
        #expect(machine.append("b") == nil)
        let final = machine.flush(id: 2)
        #expect(!final.done)
        // The running group fails: the final flush still owes "b", so both go in one group.
        let afterFirst = machine.complete(first.id, putBack: first.entries)
        #expect(afterFirst.flushesDone == [1])
        let second = try #require(afterFirst.start)
        #expect(second.entries == ["a", "b"])
        // It fails again: the flush is done (it does not retry forever); the entries wait.
        let afterSecond = machine.complete(second.id, putBack: second.entries)
        #expect(afterSecond.flushesDone == [2] && afterSecond.start == nil)
        #expect(machine.waitingCount == 2)
    }
}
