import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's stored segments, and counts of who is in a filter (docs/CAMPAIGNS.md,
/// "Segments"). Every statement filters by tenant and runs under row-level security; changes
/// are audited in the same transaction.
public struct SegmentStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store over the same pool as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.pool = messages.pool
    }

    /// The outcome of a create or update.
    public enum Write: Sendable, Equatable {
        /// Stored.
        case saved(Segment)
        /// The tenant has another segment of that name.
        case nameTaken
        /// The tenant has no such segment (update only).
        case notFound
    }

    /// Who a count or preview found.
    public struct Preview: Sendable, Equatable {
        /// How many contacts match.
        public var count: Int
        /// The first matching addresses in address order (at most the sample size asked for).
        public var sample: [String]
    }

    static let columns = "id, tenant_id, name, filter::text AS filter, created_at, updated_at"

    /// Stores a new segment.
    public func create(tenantID: UUID, name: String, filter: SegmentFilter, actor: String) async throws -> Write {
        let id = UUID.timeOrdered()
        let filterJSON = try Self.text(filter)
        return try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                INSERT INTO segments (id, tenant_id, name, filter) VALUES ($1, $2, $3, $4::jsonb)
                ON CONFLICT (tenant_id, name) DO NOTHING RETURNING \(Self.columns)
                """, [id, tenantID, name, filterJSON])
            guard let row = rows.first else { return .nameTaken }
            try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "segment.created", target: id.lowercasedString, detail: ["name": name]), on: connection)
            return .saved(try Self.segment(row))
        }
    }

    /// A tenant's segments in name order, after the name `after` (a previous page's last).
    public func list(tenantID: UUID, after: String? = nil, limit: Int = 100) async throws -> [Segment] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM segments WHERE tenant_id = $1 AND ($2::text IS NULL OR name > $2::text)
                ORDER BY name LIMIT $3
                """, [tenantID, after, limit]
            ).map(Self.segment)
        }
    }

    /// One segment, or nil when the tenant has no such segment.
    public func get(tenantID: UUID, id: UUID) async throws -> Segment? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM segments WHERE id = $1 AND tenant_id = $2", [id, tenantID]).first.map(Self.segment)
        }
    }

    /// Renames a segment or replaces its filter (nil leaves either as it is).
    public func update(tenantID: UUID, id: UUID, name: String?, filter: SegmentFilter?, actor: String) async throws -> Write {
        let filterJSON = try filter.map(Self.text)
        return try await pool.tenantTransaction(tenantID) { connection in
            if let name, try !connection.query("SELECT 1 FROM segments WHERE tenant_id = $1 AND name = $2 AND id <> $3", [tenantID, name, id]).isEmpty {
                return .nameTaken
            }
            let rows: PostgresRows
            do {
                rows = try connection.query(
                    """
                    UPDATE segments SET name = COALESCE($3, name), filter = COALESCE($4::jsonb, filter), updated_at = now()
                    WHERE id = $1 AND tenant_id = $2 RETURNING \(Self.columns)
                    """, [id, tenantID, name, filterJSON])
            } catch let error as PostgresError where error.isUniqueViolation {
                return .nameTaken  // renamed to a name another writer took meanwhile
            }
            guard let row = rows.first else { return .notFound }
            var detail: [String: String] = [:]
            if let name { detail["name"] = name }
            if filter != nil { detail["filter"] = "replaced" }
            try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "segment.updated", target: id.lowercasedString, detail: detail), on: connection)
            return .saved(try Self.segment(row))
        }
    }

    /// Deletes a segment; false when the tenant has no such segment.
    public func delete(tenantID: UUID, id: UUID, actor: String) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            let deleted = try !connection.query("DELETE FROM segments WHERE id = $1 AND tenant_id = $2 RETURNING id", [id, tenantID]).isEmpty
            if deleted {
                try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "segment.deleted", target: id.lowercasedString), on: connection)
            }
            return deleted
        }
    }

    /// How many of the tenant's contacts `filter` matches at `now` (only the subscribed members
    /// of `listID` when given), with the first `sample` addresses.
    public func preview(tenantID: UUID, filter: SegmentFilter, listID: UUID? = nil, now: Date = Date(), sample: Int = 10) async throws -> Preview {
        let (sql, parameters) = Self.matching(filter, tenantID: tenantID, listID: listID, now: now)
        return try await pool.tenantTransaction(tenantID) { connection in
            let count = try connection.query("SELECT count(*) AS n FROM contacts c WHERE \(sql)", parameters).first?.int("n") ?? 0
            guard sample > 0, count > 0 else { return Preview(count: count, sample: []) }
            let emails = try connection.query(
                "SELECT c.email FROM contacts c WHERE \(sql) ORDER BY c.email LIMIT $\(parameters.count + 1)", parameters + [sample]
            ).map { try $0.string("email") }
            return Preview(count: count, sample: emails)
        }
    }

    /// The ids of the tenant's contacts `filter` matches at `now`, in id order: what a segment
    /// holds, for checks against the pure evaluator.
    public func contactIDs(tenantID: UUID, filter: SegmentFilter, listID: UUID? = nil, now: Date) async throws -> [UUID] {
        let (sql, parameters) = Self.matching(filter, tenantID: tenantID, listID: listID, now: now)
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT c.id FROM contacts c WHERE \(sql) ORDER BY c.id", parameters).map { try $0.uuid("id") }
        }
    }

    /// The WHERE clause of a count: the segment's predicate, and membership of the list when given.
    static func matching(_ filter: SegmentFilter, tenantID: UUID, listID: UUID?, now: Date) -> (String, [any PostgresEncodable]) {
        var parameters: [any PostgresEncodable] = []
        var sql = ""
        if let listID {
            parameters.append(listID)
            sql = "EXISTS (SELECT 1 FROM list_members m WHERE m.contact_id = c.id AND m.list_id = $1 AND m.status = 'subscribed') AND "
        }
        let predicate = SegmentSQL.predicate(filter, tenantID: tenantID, now: now, firstParameter: parameters.count + 1)
        return (sql + predicate.sql, parameters + predicate.parameters)
    }

    static func text(_ filter: SegmentFilter) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(filter), as: UTF8.self)
    }

    static func segment(_ row: PostgresRow) throws -> Segment {
        let filter = try JSONDecoder().decode(SegmentFilter.self, from: Data(try row.string("filter").utf8))
        return Segment(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"), filter: filter,
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}
