import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// Each tenant's health per From domain over both windows ending with the minute of `now`
    /// (one tenant's when `tenantID` is given).
    public func domainHealth(tenantID: UUID? = nil, now: Date = Date()) async throws -> [DomainHealth] {
        try await pool.withConnection { try Self.domainHealth(tenantID: tenantID, now: now, on: $0) }
    }

    /// Every tenant's health as the leader judges it (`HealthPolicy.pauses(domains:tenants:)`):
    /// minutes up to a resume are left out, so what was resumed is judged afresh. Per domain,
    /// the minutes up to the later of that domain's resume and the whole tenant's; for the
    /// tenant's sum, those up to the whole tenant's resume only.
    public func healthToJudge(now: Date = Date()) async throws -> (domains: [DomainHealth], tenants: [DomainHealth]) {
        let minute = HealthWindow.minute(of: now)
        let sums = Self.healthColumns.map { column in
            [("domain", "GREATEST(coalesce(d.m, -1), coalesce(t.m, -1))"), ("tenant", "coalesce(t.m, -1)")].map { view, cut in
                "coalesce(sum(h.\(column)) FILTER (WHERE h.minute >= $2 AND h.minute > \(cut)), 0) AS \(view)_hour_\(column), "
                    + "coalesce(sum(h.\(column)) FILTER (WHERE h.minute > \(cut)), 0) AS \(view)_day_\(column)"
            }.joined(separator: ", ")
        }
        let rows = try await pool.query(
            """
            WITH cut AS (
                SELECT tenant_id, domain, floor(extract(epoch FROM resumed_at) / 60)::int AS m FROM bulk_pauses WHERE resumed_at IS NOT NULL
            )
            SELECT h.tenant_id, h.domain, \(sums.joined(separator: ", "))
            FROM sender_health h
            LEFT JOIN cut d ON d.tenant_id = h.tenant_id AND d.domain = h.domain
            LEFT JOIN cut t ON t.tenant_id = h.tenant_id AND t.domain = ''
            WHERE h.minute >= $1 AND h.minute <= $3
            GROUP BY h.tenant_id, h.domain ORDER BY h.tenant_id, h.domain
            """,
            [HealthWindow.day.firstMinute(endingAt: minute), HealthWindow.hour.firstMinute(endingAt: minute), minute])
        var domains: [DomainHealth] = []
        var tenants: [DomainHealth] = []
        for row in rows {
            domains.append(try Self.domainHealth(row, prefix: "domain_"))
            tenants.append(try Self.domainHealth(row, prefix: "tenant_"))
        }
        return (domains, tenants)
    }

    /// One tenant's health and the pauses in force, read under row-level security (the API's
    /// second wall, `TenantScope`).
    public func tenantHealth(_ tenantID: UUID, now: Date = Date()) async throws -> (health: [DomainHealth], pauses: [BulkPause]) {
        try await pool.tenantTransaction(tenantID) { connection in
            (try Self.domainHealth(tenantID: tenantID, now: now, on: connection), try Self.bulkPauses(tenantID: tenantID, on: connection))
        }
    }

    static let healthColumns = ["sent", "delivered", "hard_bounced", "soft_bounced", "complained"]

    static func domainHealth(tenantID: UUID?, now: Date, on connection: PostgresConnection) throws -> [DomainHealth] {
        let minute = HealthWindow.minute(of: now)
        let sums = healthColumns.map { "coalesce(sum(h.\($0)) FILTER (WHERE h.minute >= $2), 0) AS hour_\($0), coalesce(sum(h.\($0)), 0) AS day_\($0)" }
        let rows = try connection.query(
            """
            SELECT h.tenant_id, h.domain, \(sums.joined(separator: ", "))
            FROM sender_health h
            WHERE h.minute >= $1 AND h.minute <= $3 AND ($4::uuid IS NULL OR h.tenant_id = $4::uuid)
            GROUP BY h.tenant_id, h.domain ORDER BY h.tenant_id, h.domain
            """,
            [HealthWindow.day.firstMinute(endingAt: minute), HealthWindow.hour.firstMinute(endingAt: minute), minute, tenantID])
        return try rows.map { try domainHealth($0, prefix: "") }
    }

    /// A row's counts for both windows, from columns named `<prefix>hour_<count>` and `<prefix>day_<count>`.
    private static func domainHealth(_ row: PostgresRow, prefix: String) throws -> DomainHealth {
        func counts(_ window: String) throws -> HealthCounts {
            let p = prefix + window
            return HealthCounts(
                sent: try row.int("\(p)_sent"), delivered: try row.int("\(p)_delivered"),
                hardBounced: try row.int("\(p)_hard_bounced"), softBounced: try row.int("\(p)_soft_bounced"),
                complained: try row.int("\(p)_complained"))
        }
        return DomainHealth(tenantID: try row.uuid("tenant_id"), domain: try row.string("domain"), hour: try counts("hour"), day: try counts("day"))
    }

    /// Pauses the bulk mail `pauses` name, unless already paused; each new pause is audited
    /// (actor `actor`) in the same transaction. Returns the new pauses.
    @discardableResult
    public func pauseBulk(_ pauses: [(tenantID: UUID, domain: String, reason: String)], actor: String) async throws -> [BulkPause] {
        guard !pauses.isEmpty else { return [] }
        return try await pool.transaction { connection in
            let rows = try connection.query(
                """
                INSERT INTO bulk_pauses (tenant_id, domain, reason)
                SELECT u.tenant_id, u.domain, u.reason FROM unnest($1::uuid[], $2::text[], $3::text[]) AS u(tenant_id, domain, reason)
                JOIN tenants t ON t.id = u.tenant_id
                ON CONFLICT (tenant_id, domain) DO UPDATE SET reason = excluded.reason, paused_at = now(), resumed_at = NULL, resumed_by = NULL
                    WHERE bulk_pauses.resumed_at IS NOT NULL
                RETURNING tenant_id, domain, reason, paused_at
                """, [pauses.map(\.tenantID), pauses.map(\.domain), pauses.map(\.reason)])
            let paused = try rows.map(Self.pause)
            for pause in paused {
                try AuditLog.record(
                    AuditEntry(
                        tenantID: pause.tenantID, actor: actor, action: "bulk.paused", target: pause.domain.isEmpty ? nil : pause.domain,
                        detail: ["reason": pause.reason]),
                    on: connection)
            }
            return paused
        }
    }

    /// The pauses in force, of one tenant or of every tenant.
    public func bulkPauses(tenantID: UUID? = nil) async throws -> [BulkPause] {
        try await pool.withConnection { try Self.bulkPauses(tenantID: tenantID, on: $0) }
    }

    static func bulkPauses(tenantID: UUID?, on connection: PostgresConnection) throws -> [BulkPause] {
        try connection.query(
            """
            SELECT tenant_id, domain, reason, paused_at FROM bulk_pauses
            WHERE resumed_at IS NULL AND ($1::uuid IS NULL OR tenant_id = $1::uuid) ORDER BY tenant_id, domain
            """, [tenantID]).map(Self.pause)
    }

    /// The paused domains (`BulkPause.wholeTenant` for the whole lane) of each of `tenantIDs`
    /// that has any; one query for a worker round.
    public func pausedBulkDomains(tenantIDs: [UUID]) async throws -> [UUID: Set<String>] {
        guard !tenantIDs.isEmpty else { return [:] }
        var result: [UUID: Set<String>] = [:]
        for row in try await pool.query(
            "SELECT tenant_id, domain FROM bulk_pauses WHERE resumed_at IS NULL AND tenant_id = ANY($1::uuid[])", [tenantIDs]) {
            result[try row.uuid("tenant_id"), default: []].insert(try row.string("domain"))
        }
        return result
    }

    /// Lifts a tenant's pauses (only that of `domain` when given; `BulkPause.wholeTenant` names
    /// the whole-lane pause), audited as done by `actor`, under row-level security. Returns the
    /// pauses lifted.
    @discardableResult
    public func resumeBulk(tenantID: UUID, domain: String? = nil, actor: String) async throws -> [BulkPause] {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                UPDATE bulk_pauses SET resumed_at = now(), resumed_by = $3
                WHERE tenant_id = $1 AND resumed_at IS NULL AND ($2::text IS NULL OR domain = $2::text)
                RETURNING tenant_id, domain, reason, paused_at
                """, [tenantID, domain, actor])
            let resumed = try rows.map(Self.pause)
            for pause in resumed {
                try AuditLog.record(
                    AuditEntry(
                        tenantID: tenantID, actor: actor, action: "bulk.resumed", target: pause.domain.isEmpty ? nil : pause.domain,
                        detail: ["reason": pause.reason]),
                    on: connection)
            }
            return resumed
        }
    }

    /// Tenants with bulk mail paused (whole or some domain).
    public func pausedTenantCount() async throws -> Int {
        try await pool.query("SELECT count(DISTINCT tenant_id) AS n FROM bulk_pauses WHERE resumed_at IS NULL").first.map { try $0.int("n") } ?? 0
    }

    /// Deletes counters older than the longest window (and a minute of margin).
    public func purgeHealthCounters(now: Date = Date()) async throws {
        try await pool.query("DELETE FROM sender_health WHERE minute < $1", [HealthWindow.day.firstMinute(endingAt: HealthWindow.minute(of: now)) - 1])
    }

    private static func pause(_ row: PostgresRow) throws -> BulkPause {
        BulkPause(tenantID: try row.uuid("tenant_id"), domain: try row.string("domain"), reason: try row.string("reason"), pausedAt: try row.date("paused_at"))
    }
}
