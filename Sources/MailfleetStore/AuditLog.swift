import Foundation
import MailfleetCore
import MailfleetPostgres

/// The audit log of admin actions (keys created, revoked, rotated; tenants changed; provider
/// accounts changed). Entries are written in the same transaction as the change they record,
/// so the log never claims a change that did not commit, nor misses one that did.
public struct AuditLog: Sendable {
    private let pool: PostgresPool

    /// Creates a log over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Appends an entry on a connection inside the caller's transaction.
    public static func record(_ entry: AuditEntry, on connection: PostgresConnection) throws {
        try connection.query(
            "INSERT INTO audit_log (tenant_id, actor, action, target, detail) VALUES ($1, $2, $3, $4, $5::jsonb)",
            [entry.tenantID, entry.actor, entry.action, entry.target, entry.detailJSON])
    }

    /// Appends an entry in its own transaction.
    public func record(_ entry: AuditEntry) async throws {
        try await pool.withConnection { try AuditLog.record(entry, on: $0) }
    }

    /// The newest entries first, optionally of one tenant.
    public func entries(tenantID: UUID? = nil, limit: Int = 100) async throws -> [AuditEntry] {
        let rows = try await pool.query(
            """
            SELECT tenant_id, actor, action, target, detail::text AS detail, occurred_at FROM audit_log
            WHERE $1::uuid IS NULL OR tenant_id = $1::uuid ORDER BY id DESC LIMIT $2
            """, [tenantID, limit])
        return try rows.map { row in
            AuditEntry(
                tenantID: row.optionalString("tenant_id").flatMap(UUID.init(uuidString:)), actor: try row.string("actor"),
                action: try row.string("action"), target: row.optionalString("target"), detailJSON: try row.string("detail"),
                occurredAt: try row.date("occurred_at"))
        }
    }
}

/// One admin action.
public struct AuditEntry: Sendable, Equatable {
    /// The tenant it concerns, if any.
    public var tenantID: UUID?
    /// Who did it, e.g. `cli:root`.
    public var actor: String
    /// What was done, e.g. `key.revoked`.
    public var action: String
    /// What it was done to, e.g. a key id.
    public var target: String?
    /// Details as a JSON object.
    public var detailJSON: String
    /// When it happened (set by the database when recorded).
    public var occurredAt: Date?

    /// Creates an entry whose details are `detail` encoded as a JSON object (keys sorted).
    public init(tenantID: UUID?, actor: String, action: String, target: String?, detail: some Encodable) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(detail)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        self.init(tenantID: tenantID, actor: actor, action: action, target: target, detailJSON: json)
    }

    /// Creates an entry.
    public init(tenantID: UUID?, actor: String, action: String, target: String?, detailJSON: String = "{}", occurredAt: Date? = nil) {
        self.tenantID = tenantID
        self.actor = actor
        self.action = action
        self.target = target
        self.detailJSON = detailJSON
        self.occurredAt = occurredAt
    }
}
