import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's suppression list: addresses never to send to. Addresses are stored lowercased
/// (with the domain in ASCII form), so `Bob@Example.com` suppresses `bob@example.com`.
public struct SuppressionStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The key an address is stored and looked up under.
    public static func normalised(_ address: EmailAddress) -> String { address.email.lowercased() }

    /// Adds (or refreshes the reason of) a suppression; returns it.
    public func add(tenantID: UUID, address: EmailAddress, reason: String) async throws -> Suppression {
        let email = SuppressionStore.normalised(address)
        return try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                INSERT INTO suppressions (tenant_id, email, reason) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id, email) DO UPDATE SET reason = EXCLUDED.reason
                RETURNING email, reason, created_at
                """, [tenantID, email, reason])
            return try SuppressionStore.suppression(rows[0])
        }
    }

    /// Removes a suppression; false when there was none.
    public func remove(tenantID: UUID, address: EmailAddress) async throws -> Bool {
        let email = SuppressionStore.normalised(address)
        return try await pool.tenantTransaction(tenantID) { connection in
            try !connection.query("DELETE FROM suppressions WHERE tenant_id = $1 AND email = $2 RETURNING email", [tenantID, email]).isEmpty
        }
    }

    /// One suppression, or nil.
    public func get(tenantID: UUID, address: EmailAddress) async throws -> Suppression? {
        let email = SuppressionStore.normalised(address)
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT email, reason, created_at FROM suppressions WHERE tenant_id = $1 AND email = $2", [tenantID, email])
                .first.map(SuppressionStore.suppression)
        }
    }

    /// A page of the list in address order, starting after `after`.
    public func list(tenantID: UUID, after: String?, limit: Int) async throws -> [Suppression] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "SELECT email, reason, created_at FROM suppressions WHERE tenant_id = $1 AND email > $2 ORDER BY email LIMIT $3",
                [tenantID, after ?? "", limit]
            ).map(SuppressionStore.suppression)
        }
    }

    /// Which of `emails` (normalised) the tenant suppresses, in one query.
    public func suppressed(tenantID: UUID, among emails: [String]) async throws -> Set<String> {
        guard !emails.isEmpty else { return [] }
        return try await pool.tenantTransaction(tenantID) { connection in
            Set(try connection.query(
                "SELECT email FROM suppressions WHERE tenant_id = $1 AND email = ANY($2::text[])", [tenantID, emails]
            ).map { try $0.string("email") })
        }
    }

    /// Which (tenant, email) pairs are suppressed, for many tenants' lookups at once (one query
    /// for concurrent requests). Runs with an explicit pair filter as the table owner, like
    /// the group-commit insert it precedes.
    public func suppressedPairs(tenantIDs: [UUID], emails: [String]) async throws -> Set<SuppressionKey> {
        guard !emails.isEmpty else { return [] }
        let rows = try await pool.query(
            """
            SELECT s.tenant_id, s.email FROM suppressions s
            JOIN unnest($1::uuid[], $2::text[]) AS u(tenant_id, email) ON s.tenant_id = u.tenant_id AND s.email = u.email
            """, [tenantIDs, emails])
        return Set(try rows.map { SuppressionKey(tenantID: try $0.uuid("tenant_id"), email: try $0.string("email")) })
    }

    private static func suppression(_ row: PostgresRow) throws -> Suppression {
        Suppression(email: try row.string("email"), reason: try row.string("reason"), createdAt: try row.date("created_at"))
    }
}

/// One suppressed address.
public struct Suppression: Sendable, Equatable {
    /// The address, lowercased.
    public var email: String
    /// Why: `manual`, `bounce`, `complaint`, `unsubscribed` (one-click unsubscribe).
    public var reason: String
    /// When it was added.
    public var createdAt: Date
}

/// A tenant's suppressed address.
public struct SuppressionKey: Sendable, Hashable {
    /// The tenant.
    public var tenantID: UUID
    /// The normalised address.
    public var email: String
    /// Creates a key.
    public init(tenantID: UUID, email: String) {
        self.tenantID = tenantID
        self.email = email
    }
}
