import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore
import Metrics
import ServiceLifecycle

/// How the campaign runner works.
public struct CampaignRunnerConfiguration: Sendable {
    /// Recipients expanded per transaction. Default 500: a chunk commits in tens of
    /// milliseconds, so a pause or cancel waits at most that long for the campaign's row.
    public var chunk = 500
    /// The wait after a pass that found nothing due. Default 500 ms: a started campaign's
    /// first messages are made within about that long.
    public var idleWait: Duration = .milliseconds(500)
    /// The defaults.
    public init() {}
}

/// Expands running campaigns into messages (`CampaignStore.expandNext`), one chunk per
/// transaction, and enqueues each chunk's messages after its commit, as the API does for
/// accepted mail. Every scheduler replica runs one, not only the leader: a chunk takes its
/// campaign's row with `FOR UPDATE SKIP LOCKED`, so replicas share the campaigns and never
/// expand one twice; a replica killed mid-chunk rolls the chunk back, and one killed between
/// commit and enqueue leaves `queued` messages that reconciliation enqueues.
public final class CampaignRunner: Service {
    private let store: CampaignStore
    private let queue: MessageQueue
    private let configuration: CampaignRunnerConfiguration
    private let logger: Logger
    private let made = Telemetry.counter("campaign_messages_total", help: "Messages made from campaigns' recipients by this scheduler's campaign runner")

    /// Creates the runner.
    public init(store: CampaignStore, queue: MessageQueue, configuration: CampaignRunnerConfiguration = .init(), logger: Logger) {
        self.store = store
        self.queue = queue
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until graceful shutdown; a chunk under way finishes first.
    public func run() async throws {
        await PassLoop(idleWait: configuration.idleWait, name: "campaign runner", logger: logger).run {
            var busy = try await carryOut(try await store.expandNext(chunk: configuration.chunk))
            // A/B tests due for their decision (docs/CAMPAIGNS.md "A/B tests").
            switch try await store.decideNextABTest() {
            case .decided(let id, let decision):
                logger.info(
                    "campaign A/B test decided",
                    metadata: ["campaign_id": "\(id.lowercasedString)", "winner": "\(decision.winnerName)", "rule": "\(decision.rule.rawValue)"])
                busy = true
            case .failed(let id, let failures, let until, let error):
                // Charged to that campaign alone: the others go on at once.
                logger.error(
                    "campaign A/B decision failed; the campaign backs off",
                    metadata: ["campaign_id": "\(id.lowercasedString)", "failures": "\(failures)", "until": "\(ISO8601.format(until))", "error": "\(error)"])
                busy = true
            case .idle, .waiting:
                break
            }
            return busy
        }
    }

    /// Enqueues and logs what a pass did; true when another campaign may be due at once.
    private func carryOut(_ expansion: CampaignStore.Expansion) async throws -> Bool {
        switch expansion {
        case .idle:
            return false
        case .expanded(let id, let messages, let skipped, let items):
            made.increment(by: Int64(messages))
            do {
                try await queue.enqueue(items)
            } catch {
                // Committed as queued: reconciliation enqueues them, as after an accept whose enqueue failed.
                logger.error("campaign runner: enqueue after commit failed", metadata: ["campaign_id": "\(id.lowercasedString)", "messages": "\(items.count)", "error": "\(error)"])
            }
            if skipped > 0 {
                logger.warning("campaign recipients skipped", metadata: ["campaign_id": "\(id.lowercasedString)", "skipped": "\(skipped)"])
            }
            return true
        case .finished(let id):
            logger.info("campaign done", metadata: ["campaign_id": "\(id.lowercasedString)"])
            return true
        case .failed(let id, let failures, let until, let error):
            // Charged to that campaign alone: the others go on at once.
            logger.error(
                "campaign expansion failed; the campaign backs off",
                metadata: ["campaign_id": "\(id.lowercasedString)", "failures": "\(failures)", "until": "\(ISO8601.format(until))", "error": "\(error)"])
            return true
        case .waiting(let id, let until, let reason):
            logger.info("campaign waits", metadata: ["campaign_id": "\(id.lowercasedString)", "until": "\(ISO8601.format(until))", "reason": "\(reason)"])
            return true
        }
    }
}
