import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// Keeps a round's leases alive while the round runs: every third of the lease it pushes both
/// the Redis lease (the scheduler's reclaim) and the Postgres one (the claim) a whole lease
/// ahead, so a round slower than the lease (a slow provider, a big batch) is not handed to a
/// second worker and sent twice. A dead worker renews nothing, and its leases lapse as before.
struct LeaseRenewal: Sendable {
    /// The round's claimed messages.
    let messages: [(id: UUID, priority: Priority)]
    let queue: MessageQueue
    let store: MessageStore
    let leaseSeconds: Double
    let logger: Logger

    private static let renewed = Telemetry.counter("lease_renewals_total", help: "Lease renewals of messages in long worker rounds")

    /// Starts renewing; cancel the task when the round ends. Cancelling is safe at any moment:
    /// a renewal still in flight extends only entries still leased and rows still `sending`,
    /// so it can never bring back a message the round has acknowledged or recorded.
    static func start(
        for messages: [(id: UUID, priority: Priority)], queue: MessageQueue, store: MessageStore, leaseSeconds: Double, logger: Logger
    ) -> Task<Void, Never> {
        let renewal = LeaseRenewal(messages: messages, queue: queue, store: store, leaseSeconds: leaseSeconds, logger: logger)
        return Task { await renewal.run() }
    }

    /// Renews every third of the lease until cancelled; a failed renewal is logged and tried
    /// again at the next interval, with two more chances before the lease can lapse.
    func run() async {
        let interval = Duration.milliseconds(Int(leaseSeconds * 1000 / 3))
        while true {
            do { try await Task.sleep(for: interval) } catch { return }
            if Task.isCancelled { return }
            do {
                async let inRedis = queue.renewLeases(messages, leaseSeconds: leaseSeconds)
                let inPostgres = try await store.renewLeases(messages.map(\.id), lease: leaseSeconds)
                let redisCount = try await inRedis
                Self.renewed.increment(by: Int64(inPostgres))
                logger.debug("leases renewed", metadata: ["postgres": "\(inPostgres)", "redis": "\(redisCount)"])
            } catch {
                logger.warning("lease renewal failed; retrying at the next interval", metadata: ["error": "\(error)", "messages": "\(messages.count)"])
            }
        }
    }
}
