import Foundation
import MailfleetCore

extension SchedulerService {
    /// The leader's sender-health pass: every tenant's counters since its last resume, judged
    /// by the policy; what passes a limit has its bulk mail paused (audited), and counters past
    /// the longest window are deleted. The leader does it because one evaluator per minute is
    /// enough and it already holds the fleet's only lease.
    func evaluateHealth() async throws {
        let health = try await tenants.healthToJudge()
        let made = try await tenants.pauseBulk(configuration.healthPolicy.pauses(domains: health.domains, tenants: health.tenants), actor: "scheduler")
        for pause in made {
            logger.warning("bulk mail paused for sender health", metadata: [
                "tenant_id": "\(pause.tenantID.lowercasedString)", "domain": "\(pause.domain.isEmpty ? "*" : pause.domain)", "reason": "\(pause.reason)",
            ])
        }
        bulkPauses.increment(by: Int64(made.count))
        try await tenants.purgeHealthCounters()
    }
}
