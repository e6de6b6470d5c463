import Foundation
import MailfleetCore
import MailfleetPostgres

/// Imports of contact files: their records, the batches they write and the rows they refuse
/// (docs/CAMPAIGNS.md "Import and export"). Each batch is one transaction: its contacts,
/// memberships, refused rows and the import's counts commit together, so a killed import's
/// counts say exactly what it wrote.
public struct ContactImportStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store over the same pool as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.pool = messages.pool
    }

    /// A running import whose counts have not moved for this long is shown as interrupted
    /// (its process died; a live one writes a batch far more often).
    public static let staleAfter: TimeInterval = 600

    static let columns = """
        id, tenant_id, list_id, format, actor, rows_read, imported, updated, rejected, suppressed, duplicates, created_at, updated_at, finished_at,
        CASE WHEN state = 'running' AND updated_at < now() - make_interval(secs => \(Int(staleAfter))) THEN 'interrupted' ELSE state END AS state
        """

    /// Whether the list is double opt-in; nil when the tenant has no such list.
    public func doubleOptIn(tenantID: UUID, listID: UUID) async throws -> Bool? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT double_opt_in FROM contact_lists WHERE id = $1 AND tenant_id = $2", [listID, tenantID]).first?.bool("double_opt_in")
        }
    }

    /// Records a new running import (audited); nil when the tenant has no such list.
    public func begin(tenantID: UUID, listID: UUID, format: ContactFileFormat, actor: String) async throws -> ContactImport? {
        let id = UUID()
        return try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contact_lists WHERE id = $1 AND tenant_id = $2", [listID, tenantID]).isEmpty else { return nil }
            let row = try connection.query(
                """
                INSERT INTO contact_imports (id, tenant_id, list_id, format, state, actor) VALUES ($1, $2, $3, $4, 'running', $5)
                RETURNING \(Self.columns)
                """, [id, tenantID, listID, format.rawValue, actor])[0]
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "contacts.import_started", target: id.lowercasedString,
                           detail: ["list_id": listID.lowercasedString, "format": format.rawValue]), on: connection)
            return try Self.record(row)
        }
    }

    /// Writes one batch of an import: contacts upserted (attributes merged), members added
    /// (new ones `initial`, suppressed ones made `unsubscribed`, others keep their status),
    /// refused rows kept, counts added. Returns the import with its new counts.
    ///
    /// A row whose contact this import already wrote (an earlier batch had the address) is not
    /// written again and counts as a duplicate: the first row of the file wins.
    ///
    /// Rows are written in address order (and members in contact-id order), not the file's:
    /// two imports into one tenant then lock shared contacts in one order and never deadlock.
    public func write(_ batch: ContactBatch, importID: UUID, tenantID: UUID, listID: UUID, doubleOptIn: Bool) async throws -> ContactImport {
        let emails = batch.rows.map(\.email)
        let attributes = try batch.rows.map { try ContactStore.json($0.attributes) }
        let zones = batch.rows.map(\.timeZone)
        let lines = batch.rejections.map(\.line)
        let reasons = batch.rejections.map(\.reason)
        let newStatus = MembershipStatus.initial(doubleOptIn: doubleOptIn, suppressed: false).rawValue
        return try await pool.tenantTransaction(tenantID) { connection in
            var counts = ContactImportCounts(read: batch.rowsRead, rejected: batch.rejections.count, duplicates: batch.duplicates)
            if !emails.isEmpty {
                let row = try connection.query(
                    """
                    WITH input AS (
                        SELECT * FROM unnest($2::text[], $3::jsonb[], $4::text[]) AS u(email, attributes, time_zone)
                    ), written AS (
                        INSERT INTO contacts AS c (id, tenant_id, email, attributes, time_zone, last_import_id)
                        SELECT gen_random_uuid(), $1, email, attributes, time_zone, $5 FROM input ORDER BY email
                        ON CONFLICT (tenant_id, email) DO UPDATE SET attributes = c.attributes || EXCLUDED.attributes,
                            time_zone = COALESCE(EXCLUDED.time_zone, c.time_zone), last_import_id = EXCLUDED.last_import_id, updated_at = now()
                        WHERE c.last_import_id IS DISTINCT FROM EXCLUDED.last_import_id
                        RETURNING c.id, c.email, (xmax = 0) AS created
                    ), marked AS (
                        SELECT w.id, w.created, s.email IS NOT NULL AS suppressed
                        FROM written w LEFT JOIN suppressions s ON s.tenant_id = $1 AND s.email = w.email
                    ), members AS (
                        INSERT INTO list_members AS m (list_id, contact_id, tenant_id, status, subscribed_at, unsubscribed_at)
                        SELECT $6, id, $1, CASE WHEN suppressed THEN 'unsubscribed' ELSE $7 END,
                            CASE WHEN NOT suppressed AND $7 = 'subscribed' THEN now() END, CASE WHEN suppressed THEN now() END
                        FROM marked ORDER BY id
                        ON CONFLICT (list_id, contact_id) DO UPDATE SET status = 'unsubscribed', unsubscribed_at = now(), updated_at = now()
                        WHERE EXCLUDED.status = 'unsubscribed' AND m.status <> 'unsubscribed'
                        RETURNING 1
                    )
                    SELECT count(*) FILTER (WHERE created) AS imported, count(*) FILTER (WHERE NOT created) AS updated,
                        count(*) FILTER (WHERE suppressed) AS suppressed, (SELECT count(*) FROM members) AS members
                    FROM marked
                    """, [tenantID, emails, attributes, zones, importID, listID, newStatus])[0]
                counts.imported = try row.int("imported")
                counts.updated = try row.int("updated")
                counts.suppressed = try row.int("suppressed")
                // Rows this import had written already, in an earlier batch.
                counts.duplicates += emails.count - counts.imported - counts.updated
            }
            if !lines.isEmpty {
                try connection.query(
                    """
                    INSERT INTO contact_import_errors (import_id, tenant_id, line, reason)
                    SELECT $1, $2, line, reason FROM unnest($3::bigint[], $4::text[]) AS u(line, reason)
                    ON CONFLICT DO NOTHING
                    """, [importID, tenantID, lines, reasons])
            }
            let row = try connection.query(
                """
                UPDATE contact_imports SET rows_read = rows_read + $3, imported = imported + $4, updated = updated + $5, rejected = rejected + $6,
                    suppressed = suppressed + $7, duplicates = duplicates + $8, updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING \(Self.columns)
                """, [importID, tenantID, counts.read, counts.imported, counts.updated, counts.rejected, counts.suppressed, counts.duplicates])
            return try Self.record(row[0])
        }
    }

    /// Marks an import completed or interrupted; returns it.
    public func end(importID: UUID, tenantID: UUID, state: ContactImport.State) async throws -> ContactImport? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                UPDATE contact_imports SET state = $3, updated_at = now(), finished_at = CASE WHEN $3 = 'completed' THEN now() END
                WHERE id = $1 AND tenant_id = $2 AND state = 'running' RETURNING \(Self.columns)
                """, [importID, tenantID, state.rawValue]
            ).first.map(Self.record)
        }
    }

    /// One import, or nil.
    public func get(tenantID: UUID, id: UUID) async throws -> ContactImport? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM contact_imports WHERE id = $1 AND tenant_id = $2", [id, tenantID]).first.map(Self.record)
        }
    }

    /// A list's imports, newest first; nil when the tenant has no such list.
    public func list(tenantID: UUID, listID: UUID, limit: Int = 100) async throws -> [ContactImport]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contact_lists WHERE id = $1 AND tenant_id = $2", [listID, tenantID]).isEmpty else { return nil }
            return try connection.query(
                "SELECT \(Self.columns) FROM contact_imports WHERE list_id = $1 AND tenant_id = $2 ORDER BY created_at DESC, id LIMIT $3", [listID, tenantID, limit]
            ).map(Self.record)
        }
    }

    /// A page of an import's refused rows in line order, after line `after`; nil when there is no such import.
    public func errors(tenantID: UUID, importID: UUID, after: Int = 0, limit: Int = 100) async throws -> [ContactRejection]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contact_imports WHERE id = $1 AND tenant_id = $2", [importID, tenantID]).isEmpty else { return nil }
            return try connection.query(
                "SELECT line, reason FROM contact_import_errors WHERE import_id = $1 AND tenant_id = $2 AND line > $3 ORDER BY line LIMIT $4",
                [importID, tenantID, after, limit]
            ).map { ContactRejection(line: try $0.int("line"), reason: try $0.string("reason")) }
        }
    }

    static func record(_ row: PostgresRow) throws -> ContactImport {
        ContactImport(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), listID: try row.uuid("list_id"),
            format: ContactFileFormat(rawValue: try row.string("format")) ?? .csv,
            state: ContactImport.State(rawValue: try row.string("state")) ?? .interrupted,
            counts: ContactImportCounts(
                read: try row.int("rows_read"), imported: try row.int("imported"), updated: try row.int("updated"), rejected: try row.int("rejected"),
                suppressed: try row.int("suppressed"), duplicates: try row.int("duplicates")),
            actor: try row.string("actor"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"),
            finishedAt: try row.optionalDate("finished_at"))
    }
}
