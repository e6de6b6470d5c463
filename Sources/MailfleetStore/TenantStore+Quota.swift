import Foundation
import MailfleetCore
import MailfleetPostgres

/// Quotas: a tenant's limits live on its row, its counts in `tenant_usage` (written by the
/// accept statement, `MessageStore.accept`), per UTC period, summed over slots.
extension TenantStore {
    /// Sets a tenant's quotas (nil: unlimited) with an audit entry; false when there is no such tenant.
    public func setQuota(tenantID: UUID, _ quota: TenantQuota, actor: String = "system") async throws -> Bool {
        try await pool.transaction { connection in
            let rows = try connection.query(
                "UPDATE tenants SET daily_quota = $2, monthly_quota = $3 WHERE id = $1 RETURNING id", [tenantID, quota.daily, quota.monthly])
            guard !rows.isEmpty else { return false }
            try AuditLog.record(
                AuditEntry(
                    tenantID: tenantID, actor: actor, action: "tenant.updated", target: tenantID.lowercasedString,
                    detail: ["daily_quota": quota.daily, "monthly_quota": quota.monthly]),
                on: connection)
            return true
        }
    }

    /// A tenant's standing in the periods holding `now` (daily, then monthly), or nil when
    /// there is no such tenant.
    public func quotaUsage(tenantID: UUID, now: Date = Date()) async throws -> [QuotaUsage]? {
        try await quotaUsage(tenantIDs: [tenantID], limitedOnly: false, now: now)[tenantID]
    }

    /// The standing of every tenant that has a quota, for the quota gauges.
    public func limitedTenantsUsage(now: Date = Date()) async throws -> [UUID: [QuotaUsage]] {
        try await quotaUsage(tenantIDs: nil, limitedOnly: true, now: now)
    }

    private func quotaUsage(tenantIDs: [UUID]?, limitedOnly: Bool, now: Date) async throws -> [UUID: [QuotaUsage]] {
        let day = QuotaPeriod.daily.key(of: now), month = QuotaPeriod.monthly.key(of: now)
        let rows = try await pool.query(
            """
            SELECT t.id, t.daily_quota, t.monthly_quota,
                (SELECT COALESCE(sum(u.count), 0) FROM tenant_usage u
                 WHERE u.tenant_id = t.id AND u.period = 'daily' AND u.period_start = $2::date) AS daily_used,
                (SELECT COALESCE(sum(u.count), 0) FROM tenant_usage u
                 WHERE u.tenant_id = t.id AND u.period = 'monthly' AND u.period_start = $3::date) AS monthly_used
            FROM tenants t
            WHERE ($1::uuid[] IS NULL OR t.id = ANY($1::uuid[]))
              AND (NOT $4::bool OR t.daily_quota IS NOT NULL OR t.monthly_quota IS NOT NULL)
            """, [tenantIDs, day, month, limitedOnly])
        var result: [UUID: [QuotaUsage]] = [:]
        for row in rows {
            let quota = TenantQuota(daily: row.optionalString("daily_quota").flatMap { Int($0) }, monthly: row.optionalString("monthly_quota").flatMap { Int($0) })
            let ledger = QuotaLedger(quota: quota, usedToday: try row.int("daily_used"), usedThisMonth: try row.int("monthly_used"), now: now)
            result[try row.uuid("id")] = QuotaPeriod.allCases.map(ledger.usage)
        }
        return result
    }
}
