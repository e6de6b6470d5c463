import Foundation
import MailfleetPostgres

/// The second wall of tenant isolation: statements run inside `PostgresPool.tenantTransaction`
/// execute as the `mailfleet_tenant` role with `mailfleet.tenant_id` set, so Postgres row-level
/// security hides every other tenant's rows even from a query that forgets its tenant filter.
/// Both settings are `LOCAL`: they end with the transaction, so a pooled connection never
/// carries one request's tenant into the next.
public enum TenantScope {
    /// The role tenant-scoped statements run as (no BYPASSRLS, not a table owner).
    public static let role = "mailfleet_tenant"

    /// Switches the current transaction to the tenant role and tenant (one round trip).
    public static func enter(_ tenantID: UUID, on connection: PostgresConnection) throws {
        try connection.query(
            "SELECT set_config('role', $1, true), set_config('mailfleet.tenant_id', $2, true)",
            [role, tenantID.uuidString.lowercased()])
    }
}

extension PostgresPool {
    /// Runs `body` in a transaction confined to one tenant's rows by row-level security.
    public func tenantTransaction<T: Sendable>(
        _ tenantID: UUID, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await transaction { connection in
            try TenantScope.enter(tenantID, on: connection)
            return try body(connection)
        }
    }
}
