import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore
import Metrics
import ServiceLifecycle

/// How the sequence runner works.
public struct SequenceRunnerConfiguration: Sendable {
    /// Enrollments advanced per transaction. Default 500, like a campaign chunk: one commits in
    /// tens of milliseconds.
    public var chunk = 500
    /// The wait after a pass that found nothing due. Default 1 s: steps are days apart, so a
    /// second late is nothing, and an idle pass is one index probe.
    public var idleWait: Duration = .seconds(1)
    /// The defaults.
    public init() {}
}

/// Does the due steps of drip sequences (`SequenceStore.advanceDue`), one chunk of
/// enrollments per transaction, and enqueues each chunk's messages after its commit, as the
/// campaign runner does. Every scheduler replica runs one: a chunk takes its enrollments with
/// `FOR UPDATE SKIP LOCKED`, so replicas share them and never do one step twice; a replica
/// killed mid-chunk rolls it back, one killed between commit and enqueue leaves `queued`
/// messages that reconciliation enqueues. A chunk that fails is retried one sequence at a
/// time, and a sequence that still fails waits a growing delay while the others go on.
public final class SequenceRunner: Service {
    private let store: SequenceStore
    private let queue: MessageQueue
    private let configuration: SequenceRunnerConfiguration
    private let logger: Logger
    private let made = Telemetry.counter("sequence_messages_total", help: "Step messages made for drip sequence enrollments by this scheduler's sequence runner")
    private let completed = Telemetry.counter(
        "sequence_enrollments_ended_total", help: "Drip sequence enrollments that ended, by how (completed, exited)", labels: [("outcome", "completed")])
    private let exited = Telemetry.counter(
        "sequence_enrollments_ended_total", help: "Drip sequence enrollments that ended, by how (completed, exited)", labels: [("outcome", "exited")])

    /// Creates the runner.
    public init(store: SequenceStore, queue: MessageQueue, configuration: SequenceRunnerConfiguration = .init(), logger: Logger) {
        self.store = store
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until graceful shutdown; a chunk under way finishes first.
    public func run() async throws {
        await PassLoop(idleWait: configuration.idleWait, name: "sequence runner", logger: logger).run {
            let pass = try await store.advanceDue(chunk: configuration.chunk)
            for problem in pass.errors {
                logger.error("sequence runner: a sequence's pass failed; it backs off alone", metadata: ["error": "\(problem)"])
            }
            guard pass.taken > 0 else { return false }
            try await carryOut(pass)
            return true
        }
    }

    /// Enqueues a committed pass's messages and counts what it did.
    private func carryOut(_ pass: SequenceStore.StepPass) async throws {
        made.increment(by: Int64(pass.sent))
        completed.increment(by: Int64(pass.completed))
        exited.increment(by: Int64(pass.exited))
        guard !pass.items.isEmpty else { return }
        do {
            try await queue.enqueue(pass.items)
        } catch {
            // Committed as queued: reconciliation enqueues them, as after an accept whose enqueue failed.
            logger.error("sequence runner: enqueue after commit failed", metadata: ["messages": "\(pass.items.count)", "error": "\(error)"])
        }
    }
}
