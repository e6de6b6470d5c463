import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// Creates a key with scopes; the returned plaintext is shown once and never stored.
    public func createKey(tenantID: UUID, scopes: [APIScope], actor: String = "system") async throws -> APIKey {
        let key = APIKey.generate()
        let names = scopes.map(\.rawValue)
        try await pool.transaction { connection in
            try TenantStore.insertKey(key, tenantID: tenantID, scopes: names, on: connection)
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "key.created", target: key.id, detail: ["scopes": names]),
                on: connection)
        }
        return key
    }

    /// A tenant's keys, newest first; the secret is never stored, so never shown.
    public func keys(tenantID: UUID) async throws -> [APIKeyRecord] {
        let rows = try await pool.query(
            """
            SELECT id, tenant_id, scopes, created_at, last_used_at, revoked_at FROM api_keys
            WHERE tenant_id = $1 ORDER BY created_at DESC, id
            """, [tenantID])
        return try rows.map(TenantStore.keyRecord)
    }

    /// One key by its public id, or nil.
    public func key(id: String) async throws -> APIKeyRecord? {
        try await pool.query(
            "SELECT id, tenant_id, scopes, created_at, last_used_at, revoked_at FROM api_keys WHERE id = $1", [id]
        ).first.map(TenantStore.keyRecord)
    }

    /// Revokes a key `after` seconds from now (0: at once). A key already revoked earlier stays
    /// revoked at its earlier time. Returns the key as it is now, or nil when there is no such key.
    @discardableResult
    public func revokeKey(id: String, after seconds: Double = 0, actor: String = "system") async throws -> APIKeyRecord? {
        try await pool.transaction { connection in
            let rows = try connection.query(
                """
                UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, 'infinity'), now() + make_interval(secs => $2))
                WHERE id = $1
                RETURNING id, tenant_id, scopes, created_at, last_used_at, revoked_at
                """, [id, seconds])
            guard let row = rows.first else { return nil }
            let record = try TenantStore.keyRecord(row)
            try AuditLog.record(
                AuditEntry(tenantID: record.tenantID, actor: actor, action: "key.revoked", target: id, detail: ["after_seconds": seconds]),
                on: connection)
            return record
        }
    }

    /// Replaces a key by a new one with the same tenant and scopes; the old one stops working
    /// after `grace` seconds (0: at once) so callers can roll the new one out. Returns the new key,
    /// or nil when the old one does not exist or is already revoked.
    public func rotateKey(id: String, grace: Double = 0, actor: String = "system") async throws -> (key: APIKey, record: APIKeyRecord)? {
        let key = APIKey.generate()
        return try await pool.transaction { connection -> (key: APIKey, record: APIKeyRecord)? in
            // FOR UPDATE: two concurrent rotations of one key must not both succeed.
            let rows = try connection.query(
                """
                SELECT id, tenant_id, scopes, created_at, last_used_at, revoked_at FROM api_keys
                WHERE id = $1 AND (revoked_at IS NULL OR revoked_at > now()) FOR UPDATE
                """, [id])
            guard let row = rows.first else { return nil }
            let old = try TenantStore.keyRecord(row)
            let names = old.scopes.map(\.rawValue)
            try TenantStore.insertKey(key, tenantID: old.tenantID, scopes: names, on: connection)
            try connection.query(
                "UPDATE api_keys SET revoked_at = LEAST(COALESCE(revoked_at, 'infinity'), now() + make_interval(secs => $2)) WHERE id = $1",
                [id, grace])
            try AuditLog.record(
                AuditEntry(
                    tenantID: old.tenantID, actor: actor, action: "key.rotated", target: id,
                    detail: KeyRotation(newKey: key.id, graceSeconds: grace)),
                on: connection)
            let created = try connection.query(
                "SELECT id, tenant_id, scopes, created_at, last_used_at, revoked_at FROM api_keys WHERE id = $1", [key.id])
            return (key, try TenantStore.keyRecord(created[0]))
        }
    }

    /// The tenant and scopes of a presented key, or nil when unknown, revoked or wrong. A key
    /// whose revocation lies in the future (a rotation's grace period) still works until then.
    public func authenticate(_ presented: String) async throws -> AuthenticatedKey? {
        guard let key = APIKey(presented: presented) else { return nil }
        let rows = try await pool.query(
            """
            SELECT k.tenant_id, k.key_hash, k.scopes, k.revoked_at, t.api_rate_limit FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
            WHERE k.id = $1 AND (k.revoked_at IS NULL OR k.revoked_at > now())
            """, [key.id])
        guard let row = rows.first else { return nil }
        // Compare hashes in constant time so timing does not reveal a prefix match.
        guard ConstantTime.equal(try row.string("key_hash"), key.hash) else { return nil }
        let scopes = try row.stringArray("scopes").compactMap { $0.flatMap(APIScope.init(rawValue:)) }
        return AuthenticatedKey(
            keyID: key.id, tenantID: try row.uuid("tenant_id"), scopes: Set(scopes), revokesAt: try row.optionalDate("revoked_at"),
            apiRateLimit: row.optionalString("api_rate_limit").flatMap { Int($0) })
    }

    private static func insertKey(_ key: APIKey, tenantID: UUID, scopes: [String], on connection: PostgresConnection) throws {
        try connection.query(
            "INSERT INTO api_keys (id, tenant_id, key_hash, scopes) VALUES ($1, $2, $3, $4)",
            [key.id, tenantID, key.hash, scopes])
    }

    private static func keyRecord(_ row: PostgresRow) throws -> APIKeyRecord {
        let scopes = try row.stringArray("scopes").compactMap { $0.flatMap(APIScope.init(rawValue:)) }
        return APIKeyRecord(
            id: try row.string("id"), tenantID: try row.uuid("tenant_id"), scopes: scopes, createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at"))
    }

    /// Records that keys were used (called in batches, at most once a minute per key).
    public func touchKeys(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await pool.query("UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::text[])", [ids])
    }
}

/// The audit detail of a key rotation.
private struct KeyRotation: Encodable {
    let newKey: String
    let graceSeconds: Double

    enum CodingKeys: String, CodingKey {
        case newKey = "new_key"
        case graceSeconds = "grace_seconds"
    }
}
