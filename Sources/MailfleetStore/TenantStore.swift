import Foundation
import MailfleetCore
import MailfleetPostgres

/// Tenants, their API keys and their provider accounts.
public struct TenantStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Creates a tenant and returns its id.
    public func createTenant(name: String, actor: String = "system") async throws -> UUID {
        let id = UUID()
        try await pool.transaction { connection in
            try connection.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [id, name])
            try AuditLog.record(AuditEntry(tenantID: id, actor: actor, action: "tenant.created", target: id.lowercasedString), on: connection)
        }
        return id
    }

    /// Sets a tenant's API request limit per minute (nil: the configured default); false when
    /// there is no such tenant.
    @discardableResult
    public func setAPIRateLimit(tenantID: UUID, perMinute: Int?, actor: String = "system") async throws -> Bool {
        try await setColumn("api_rate_limit", to: perMinute, tenantID: tenantID, actor: actor)
    }

    /// Sets one integer column of a tenant's row (nil: NULL), audited as `tenant.updated` with
    /// the column and its new value, in one transaction; false when there is no such tenant.
    func setColumn(_ column: String, to value: Int?, tenantID: UUID, actor: String) async throws -> Bool {
        try await pool.transaction { connection in
            let rows = try connection.query("UPDATE tenants SET \(column) = $2 WHERE id = $1 RETURNING id", [tenantID, value])
            guard !rows.isEmpty else { return false }
            try AuditLog.record(
                AuditEntry(
                    tenantID: tenantID, actor: actor, action: "tenant.updated", target: tenantID.lowercasedString,
                    detail: [column: value]),
                on: connection)
            return true
        }
    }

    /// A tenant's API request limit per minute, or nil for the default.
    public func apiRateLimit(tenantID: UUID) async throws -> Int? {
        let rows = try await pool.query("SELECT api_rate_limit FROM tenants WHERE id = $1", [tenantID])
        return rows.first?.optionalString("api_rate_limit").flatMap { Int($0) }
    }

    /// Every tenant: id, name, creation time.
    public func tenants() async throws -> [(id: UUID, name: String, createdAt: Date)] {
        try await pool.query("SELECT id, name, created_at FROM tenants ORDER BY created_at").map {
            (try $0.uuid("id"), try $0.string("name"), try $0.date("created_at"))
        }
    }

    /// True when the tenant exists.
    public func tenantExists(_ id: UUID) async throws -> Bool {
        try await !pool.query("SELECT 1 FROM tenants WHERE id = $1", [id]).isEmpty
    }
}
