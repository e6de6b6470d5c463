import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// Sets how many days a tenant's messages and events are kept, audited; nil goes back to the
    /// fleet's retention. A number above the fleet's is stored but the fleet's applies
    /// (`MessageRetention.days(forTenant:)`). False when there is no such tenant.
    @discardableResult
    public func setRetention(tenantID: UUID, days: Int?, actor: String = "system") async throws -> Bool {
        if let days, days < 1 { throw AdminError(.invalid, "a retention is at least 1 day; \(days) is not") }
        return try await setColumn("retention_days", to: days, tenantID: tenantID, actor: actor)
    }

    /// A tenant's own retention in days: `.some(nil)` when it has none (the fleet's applies),
    /// nil when there is no such tenant.
    public func retention(tenantID: UUID) async throws -> Int?? {
        try await pool.query("SELECT retention_days FROM tenants WHERE id = $1", [tenantID]).first.map {
            $0.optionalString("retention_days").flatMap { Int($0) }
        }
    }
}
