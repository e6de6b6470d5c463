import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's contact lists (docs/CAMPAIGNS.md "Lists and contacts"). Every statement filters
/// by tenant and runs under row-level security; changes are audited in their transaction.
public struct ContactListStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store over the same pool as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.pool = messages.pool
    }

    // Member counts by status, computed when a list is read (an index-only count per list).
    static let columns = """
        l.id, l.tenant_id, l.name, l.double_opt_in, l.created_at, l.updated_at,
        (SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'pending') AS pending,
        (SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'subscribed') AS subscribed,
        (SELECT count(*) FROM list_members m WHERE m.list_id = l.id AND m.status = 'unsubscribed') AS unsubscribed
        """

    /// Creates a list; a name the tenant already uses is a `StoreError.conflict`-like Postgres 23505.
    public func create(tenantID: UUID, name: String, doubleOptIn: Bool, actor: String) async throws -> ContactList {
        let id = UUID()
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "INSERT INTO contact_lists (id, tenant_id, name, double_opt_in) VALUES ($1, $2, $3, $4)", [id, tenantID, name, doubleOptIn])
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "list.created", target: id.lowercasedString, detail: ["name": name]), on: connection)
            return try Self.list(connection.query("SELECT \(Self.columns) FROM contact_lists l WHERE l.id = $1", [id])[0])
        }
    }

    /// The tenant's lists by name, after the name `after` (a previous page's last).
    public func list(tenantID: UUID, after: String? = nil, limit: Int = 100) async throws -> [ContactList] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM contact_lists l WHERE l.tenant_id = $1 AND l.name > $2 ORDER BY l.name LIMIT $3",
                [tenantID, after ?? "", limit]
            ).map(Self.list)
        }
    }

    /// One list, or nil.
    public func get(tenantID: UUID, id: UUID) async throws -> ContactList? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM contact_lists l WHERE l.id = $1 AND l.tenant_id = $2", [id, tenantID]).first.map(Self.list)
        }
    }

    /// Renames a list or turns double opt-in on or off (nil leaves a field); nil when there is no such list.
    public func update(tenantID: UUID, id: UUID, name: String?, doubleOptIn: Bool?, actor: String) async throws -> ContactList? {
        try await pool.tenantTransaction(tenantID) { connection in
            let changed = try connection.query(
                """
                UPDATE contact_lists SET name = COALESCE($3, name), double_opt_in = COALESCE($4, double_opt_in), updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING id
                """, [id, tenantID, name, doubleOptIn])
            guard !changed.isEmpty else { return nil }
            var detail: [String: String] = [:]
            if let name { detail["name"] = name }
            if let doubleOptIn { detail["double_opt_in"] = String(doubleOptIn) }
            try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "list.updated", target: id.lowercasedString, detail: detail), on: connection)
            return try Self.list(connection.query("SELECT \(Self.columns) FROM contact_lists l WHERE l.id = $1", [id])[0])
        }
    }

    /// Deletes a list with its memberships and imports (the contacts stay); false when there is none.
    public func delete(tenantID: UUID, id: UUID, actor: String) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            let deleted = try !connection.query("DELETE FROM contact_lists WHERE id = $1 AND tenant_id = $2 RETURNING id", [id, tenantID]).isEmpty
            if deleted {
                try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "list.deleted", target: id.lowercasedString), on: connection)
            }
            return deleted
        }
    }

    static func list(_ row: PostgresRow) throws -> ContactList {
        ContactList(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"), doubleOptIn: try row.bool("double_opt_in"),
            counts: MemberCounts(pending: try row.int("pending"), subscribed: try row.int("subscribed"), unsubscribed: try row.int("unsubscribed")),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
