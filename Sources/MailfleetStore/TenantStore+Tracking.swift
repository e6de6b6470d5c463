import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// The tracking settings of several tenants in one query; a tenant not found is left out.
    public func trackingSettings(tenantIDs: [UUID]) async throws -> [UUID: TenantTracking] {
        let rows = try await pool.query(
            "SELECT id, tracking_host, unsubscribe_mailto, unsubscribe_transactional FROM tenants WHERE id = ANY($1::uuid[])", [tenantIDs])
        var settings: [UUID: TenantTracking] = [:]
        for row in rows {
            settings[try row.uuid("id")] = TenantTracking(
                trackingHost: row.optionalString("tracking_host"), unsubscribeMailto: row.optionalString("unsubscribe_mailto"),
                unsubscribeTransactional: try row.bool("unsubscribe_transactional"))
        }
        return settings
    }

    /// Replaces a tenant's tracking settings, audited; false when there is no such tenant.
    @discardableResult
    public func setTrackingSettings(tenantID: UUID, _ settings: TenantTracking, actor: String = "system") async throws -> Bool {
        try await pool.transaction { connection in
            let rows = try connection.query(
                """
                UPDATE tenants SET tracking_host = $2, unsubscribe_mailto = $3, unsubscribe_transactional = $4
                WHERE id = $1 RETURNING id
                """, [tenantID, settings.trackingHost, settings.unsubscribeMailto, settings.unsubscribeTransactional])
            guard !rows.isEmpty else { return false }
            let detail: [String: String] = [
                "tracking_host": settings.trackingHost ?? "", "unsubscribe_mailto": settings.unsubscribeMailto ?? "",
                "unsubscribe_transactional": String(settings.unsubscribeTransactional),
            ]
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "tenant.updated", target: tenantID.lowercasedString, detail: detail),
                on: connection)
            return true
        }
    }
}
