import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's templates and their versions. Every statement filters by tenant and runs under
/// row-level security (`tenantTransaction`). Versions are immutable: a change adds a version.
public struct TemplateStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Creates a template with its first version.
    public func create(tenantID: UUID, name: String, template: MessageTemplate) async throws -> TemplateRecord {
        let id = UUID()
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("INSERT INTO templates (id, tenant_id, name) VALUES ($1, $2, $3)", [id, tenantID, name])
            try TemplateStore.insertVersion(id: id, tenantID: tenantID, version: 1, template: template, on: connection)
            return try TemplateStore.fetch(id: id, tenantID: tenantID, version: nil, on: connection)!
        }
    }

    /// A tenant's templates, oldest first (latest version's content).
    public func list(tenantID: UUID) async throws -> [TemplateRecord] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT t.id, t.name, t.latest_version AS version, t.created_at, t.updated_at, v.subject, v.text_body, v.html_body
                FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.latest_version
                WHERE t.tenant_id = $1 ORDER BY t.created_at, t.id LIMIT 1000
                """, [tenantID]
            ).map(TemplateStore.record)
        }
    }

    /// One template at a version (nil: the latest), or nil when the tenant has no such template.
    public func get(tenantID: UUID, id: UUID, version: Int? = nil) async throws -> TemplateRecord? {
        try await pool.tenantTransaction(tenantID) { connection in
            try TemplateStore.fetch(id: id, tenantID: tenantID, version: version, on: connection)
        }
    }

    /// Adds a version, which becomes the latest; nil when the tenant has no such template.
    public func addVersion(tenantID: UUID, id: UUID, template: MessageTemplate) async throws -> TemplateRecord? {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                UPDATE templates SET latest_version = latest_version + 1, updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING latest_version
                """, [id, tenantID])
            guard let row = rows.first else { return nil }
            let version = try row.int("latest_version")
            try TemplateStore.insertVersion(id: id, tenantID: tenantID, version: version, template: template, on: connection)
            return try TemplateStore.fetch(id: id, tenantID: tenantID, version: version, on: connection)
        }
    }

    /// Deletes a template and its versions; false when the tenant has no such template.
    /// Messages already accepted keep their rendered content.
    public func delete(tenantID: UUID, id: UUID) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("DELETE FROM template_versions WHERE template_id = $1 AND tenant_id = $2", [id, tenantID])
            return try !connection.query("DELETE FROM templates WHERE id = $1 AND tenant_id = $2 RETURNING id", [id, tenantID]).isEmpty
        }
    }

    /// The latest versions of several templates of one tenant in one query (for accepting a batch).
    public func latest(tenantID: UUID, ids: [UUID]) async throws -> [UUID: MessageTemplate] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT t.id, v.subject, v.text_body, v.html_body
                FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.latest_version
                WHERE t.tenant_id = $1 AND t.id = ANY($2::uuid[])
                """, [tenantID, ids])
        }
        var out: [UUID: MessageTemplate] = [:]
        for row in rows {
            out[try row.uuid("id")] = MessageTemplate(
                subject: try row.string("subject"), text: row.optionalString("text_body"), html: row.optionalString("html_body"))
        }
        return out
    }

    private static func insertVersion(id: UUID, tenantID: UUID, version: Int, template: MessageTemplate, on connection: PostgresConnection) throws {
        try connection.query(
            "INSERT INTO template_versions (template_id, tenant_id, version, subject, text_body, html_body) VALUES ($1, $2, $3, $4, $5, $6)",
            [id, tenantID, version, template.subject, template.text, template.html])
    }

    private static func fetch(id: UUID, tenantID: UUID, version: Int?, on connection: PostgresConnection) throws -> TemplateRecord? {
        try connection.query(
            """
            SELECT t.id, t.name, v.version, t.created_at, t.updated_at, v.subject, v.text_body, v.html_body
            FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = COALESCE($3::int, t.latest_version)
            WHERE t.id = $1 AND t.tenant_id = $2
            """, [id, tenantID, version]
        ).first.map(TemplateStore.record)
    }

    private static func record(_ row: PostgresRow) throws -> TemplateRecord {
        TemplateRecord(
            id: try row.uuid("id"), name: try row.string("name"), version: try row.int("version"),
            template: MessageTemplate(subject: try row.string("subject"), text: row.optionalString("text_body"), html: row.optionalString("html_body")),
            createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }
}

/// A stored template at one version.
public struct TemplateRecord: Sendable, Equatable {
    /// The template's id.
    public var id: UUID
    /// Its name.
    public var name: String
    /// The version shown.
    public var version: Int
    /// That version's parts.
    public var template: MessageTemplate
    /// When the template was created.
    public var createdAt: Date
    /// When its latest version was added.
    public var updatedAt: Date
}
