import Foundation
import MailfleetCore
import MailfleetObservability

extension SchedulerService {
    /// Publishes the tenants' fair-share weights from Postgres to every partition when they
    /// changed, and at least once a minute anyway (a Redis that lost its data, or a table
    /// edited by hand, is set right again). Returns the weights now published.
    func publishWeights(last: (weights: [UUID: Int], at: ContinuousClock.Instant)?) async throws -> (weights: [UUID: Int], at: ContinuousClock.Instant) {
        let weights = try await tenants.sendWeights()
        if let last, last.weights == weights, ContinuousClock.now - last.at < .seconds(60) { return last }
        try await queue.publishWeights(weights)
        if last?.weights != weights {
            logger.info("fair-share weights published", metadata: ["tenants": "\(weights.count)"])
        }
        return (weights, ContinuousClock.now)
    }

    /// Sets the per-tenant backlog gauges: the top tenants of each lane by ready entries, and
    /// the rest summed as `other`, so the series stay few however many tenants have work.
    func publishTenantBacklogs(_ depth: (transactional: Int, bulk: Int)) async throws {
        for lane in Priority.allCases {
            let leaders = try await queue.backlogLeaders(lane, limit: configuration.backlogTenants)
            let total = lane == .transactional ? depth.transactional : depth.bulk
            tenantBacklogs.set(lane.rawValue, leaders: leaders, total: total)
        }
    }
}
