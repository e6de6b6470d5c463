import Foundation
import MailfleetCore
import MailfleetPostgres

/// Tenants, their API keys and their provider accounts.
public struct TenantStore: Sendable {
    private let pool: PostgresPool

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
        try await pool.transaction { connection in
            let rows = try connection.query("UPDATE tenants SET api_rate_limit = $2 WHERE id = $1 RETURNING id", [tenantID, perMinute])
            guard !rows.isEmpty else { return false }
            try AuditLog.record(
                AuditEntry(
                    tenantID: tenantID, actor: actor, action: "tenant.updated", target: tenantID.lowercasedString,
                    detailJSON: "{\"api_rate_limit\":\(perMinute.map(String.init) ?? "null")}"),
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

    // MARK: API keys

    /// Creates a key with scopes; the returned plaintext is shown once and never stored.
    public func createKey(tenantID: UUID, scopes: [APIScope], actor: String = "system") async throws -> APIKey {
        let key = APIKey.generate()
        let names = scopes.map(\.rawValue)
        try await pool.transaction { connection in
            try TenantStore.insertKey(key, tenantID: tenantID, scopes: names, on: connection)
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "key.created", target: key.id, detailJSON: TenantStore.scopesJSON(names)),
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
                AuditEntry(tenantID: record.tenantID, actor: actor, action: "key.revoked", target: id, detailJSON: "{\"after_seconds\":\(seconds)}"),
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
                    detailJSON: "{\"new_key\":\"\(key.id)\",\"grace_seconds\":\(grace)}"),
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
        let scopes = PostgresArray.parse(try row.string("scopes")).compactMap { $0.flatMap(APIScope.init(rawValue:)) }
        return AuthenticatedKey(
            keyID: key.id, tenantID: try row.uuid("tenant_id"), scopes: Set(scopes), revokesAt: try row.optionalDate("revoked_at"),
            apiRateLimit: row.optionalString("api_rate_limit").flatMap { Int($0) })
    }

    private static func insertKey(_ key: APIKey, tenantID: UUID, scopes: [String], on connection: PostgresConnection) throws {
        try connection.query(
            "INSERT INTO api_keys (id, tenant_id, key_hash, scopes) VALUES ($1, $2, $3, $4)",
            [key.id, tenantID, key.hash, scopes])
    }

    private static func scopesJSON(_ names: [String]) -> String {
        // Scope names and key ids are plain alphanumerics: no JSON escaping needed.
        "{\"scopes\":[\(names.map { "\"\($0)\"" }.joined(separator: ","))]}"
    }

    private static func keyRecord(_ row: PostgresRow) throws -> APIKeyRecord {
        let scopes = PostgresArray.parse(try row.string("scopes")).compactMap { $0.flatMap(APIScope.init(rawValue:)) }
        return APIKeyRecord(
            id: try row.string("id"), tenantID: try row.uuid("tenant_id"), scopes: scopes, createdAt: try row.date("created_at"),
            lastUsedAt: try row.optionalDate("last_used_at"), revokedAt: try row.optionalDate("revoked_at"))
    }

    /// Records that keys were used (called in batches, at most once a minute per key).
    public func touchKeys(_ ids: [String]) async throws {
        guard !ids.isEmpty else { return }
        try await pool.query("UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1::text[])", [ids])
    }

    // MARK: Provider accounts

    /// Adds a provider account to a tenant's chain.
    public func addProviderAccount(
        tenantID: UUID, name: String, kind: ProviderKind, endpoint: String?, priority: Int, secret: String?,
        config: [String: String] = [:], actor: String = "system"
    ) async throws -> ProviderAccount {
        let account = ProviderAccount(
            id: UUID(), tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret,
            config: config)
        try await pool.transaction { connection in
            try connection.query(
                """
                INSERT INTO provider_accounts (id, tenant_id, name, kind, endpoint, priority, secret, config)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
                """,
                [account.id, tenantID, name, kind.rawValue, endpoint, priority, secret, ProviderConfigJSON.encode(config)])
            try AuditLog.record(Self.providerAudit("provider.added", account, actor: actor, secretSet: secret != nil), on: connection)
        }
        return account
    }

    /// An audit entry for a provider account change; never carries the secret, only whether one is set.
    static func providerAudit(_ action: String, _ account: ProviderAccount, actor: String, secretSet: Bool) -> AuditEntry {
        let detail: [String: String] = [
            "name": account.name, "kind": account.kind.rawValue, "endpoint": account.endpoint ?? "",
            "priority": String(account.priority), "secret": secretSet ? "set" : "unchanged",
        ]
        let json = String(decoding: (try? JSONEncoder().encode(detail)) ?? Data("{}".utf8), as: UTF8.self)
        return AuditEntry(tenantID: account.tenantID, actor: actor, action: action, target: account.id.lowercasedString, detailJSON: json)
    }

    /// Changes the given fields of one account of a tenant; nil leaves a field as it is.
    /// `config` entries are merged into the stored ones (an empty value removes a key).
    /// Returns false when the tenant has no account with that id or name.
    public func updateProviderAccount(
        tenantID: UUID, account: String, name: String? = nil, endpoint: String?? = nil, priority: Int? = nil,
        secret: String? = nil, config: [String: String] = [:], actor: String = "system"
    ) async throws -> Bool {
        guard let current = try await providerChain(tenantID: tenantID).first(where: { Self.matches($0, account) }) else {
            return false
        }
        var merged = current.config
        for (key, value) in config { merged[key] = value.isEmpty ? nil : value }
        var updated = current
        updated.name = name ?? current.name
        updated.endpoint = endpoint ?? current.endpoint
        updated.priority = priority ?? current.priority
        let changed = updated
        let mergedConfig = merged
        return try await pool.transaction { connection in
            let rows = try connection.query(
                """
                UPDATE provider_accounts SET name = $3, endpoint = $4, priority = $5, secret = $6, config = $7::jsonb
                WHERE tenant_id = $1 AND id = $2 RETURNING id
                """,
                [tenantID, current.id, changed.name, changed.endpoint, changed.priority,
                 secret ?? current.secret, ProviderConfigJSON.encode(mergedConfig)])
            if !rows.isEmpty {
                try AuditLog.record(Self.providerAudit("provider.updated", changed, actor: actor, secretSet: secret != nil), on: connection)
            }
            return !rows.isEmpty
        }
    }

    /// Removes one account (by id or name) from a tenant's chain; false when there was none.
    public func removeProviderAccount(tenantID: UUID, account: String, actor: String = "system") async throws -> Bool {
        guard let current = try await providerChain(tenantID: tenantID).first(where: { Self.matches($0, account) }) else {
            return false
        }
        return try await pool.transaction { connection in
            let removed = !(try connection.query(
                "DELETE FROM provider_accounts WHERE tenant_id = $1 AND id = $2 RETURNING id", [tenantID, current.id]).isEmpty)
            if removed {
                try AuditLog.record(Self.providerAudit("provider.removed", current, actor: actor, secretSet: false), on: connection)
            }
            return removed
        }
    }

    private static func matches(_ account: ProviderAccount, _ reference: String) -> Bool {
        account.name == reference || account.id.lowercasedString == reference.lowercased()
    }

    /// A tenant's provider chain, first choice first.
    public func providerChain(tenantID: UUID) async throws -> [ProviderAccount] {
        try await providerChains(tenantIDs: [tenantID])[tenantID] ?? []
    }

    /// Provider chains of several tenants in one query.
    public func providerChains(tenantIDs: [UUID]) async throws -> [UUID: [ProviderAccount]] {
        let rows = try await pool.query(
            """
            SELECT id, tenant_id, name, kind, endpoint, priority, secret, config::text AS config FROM provider_accounts
            WHERE tenant_id = ANY($1::uuid[]) ORDER BY tenant_id, priority, created_at
            """, [tenantIDs])
        var chains: [UUID: [ProviderAccount]] = [:]
        for row in rows {
            guard let kind = ProviderKind(rawValue: try row.string("kind")) else { continue }
            let account = ProviderAccount(
                id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"), kind: kind,
                endpoint: row.optionalString("endpoint"), priority: try row.int("priority"), secret: row.optionalString("secret"),
                config: ProviderConfigJSON.decode(row.optionalString("config")))
            chains[account.tenantID, default: []].append(account)
        }
        return chains
    }
}

/// The `provider_accounts.config` jsonb column: a flat object of string values.
enum ProviderConfigJSON {
    static func encode(_ config: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }
    }
}

/// A key that passed authentication.
public struct AuthenticatedKey: Sendable, Equatable {
    /// The key's public id.
    public var keyID: String
    /// The tenant it belongs to.
    public var tenantID: UUID
    /// What it may do.
    public var scopes: Set<APIScope>
    /// When a pending revocation (a rotation's grace period) takes effect, if one is set.
    public var revokesAt: Date?

    /// The tenant's API requests per minute, nil for the configured default.
    public var apiRateLimit: Int?

    /// Creates an authenticated key.
    public init(keyID: String, tenantID: UUID, scopes: Set<APIScope>, revokesAt: Date? = nil, apiRateLimit: Int? = nil) {
        self.keyID = keyID
        self.tenantID = tenantID
        self.scopes = scopes
        self.revokesAt = revokesAt
        self.apiRateLimit = apiRateLimit
    }
}

/// An API key as listed: everything but the secret, which is never stored.
public struct APIKeyRecord: Sendable, Equatable {
    /// The public prefix id.
    public var id: String
    /// The owning tenant.
    public var tenantID: UUID
    /// What it may do.
    public var scopes: [APIScope]
    /// When it was created.
    public var createdAt: Date
    /// When it was last used (recorded at most once a minute), if ever.
    public var lastUsedAt: Date?
    /// When it stops (or stopped) working, if revoked.
    public var revokedAt: Date?

    /// True when the key does not work at `now`.
    public func isRevoked(at now: Date = Date()) -> Bool { revokedAt.map { $0 <= now } ?? false }
}

/// Comparison whose time does not depend on where strings differ.
enum ConstantTime {
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}

/// Parses Postgres array output text such as `{send,read}` or `{"a b",NULL}`.
public enum PostgresArray {
    /// The elements, nil for NULL.
    public static func parse(_ text: String) -> [String?] {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return [] }
        let inner = Array(text.dropFirst().dropLast())
        if inner.isEmpty { return [] }
        var out: [String?] = []
        var current = ""
        var quoted = false, wasQuoted = false, escape = false
        for ch in inner {
            if escape { current.append(ch); escape = false; continue }
            if quoted {
                if ch == "\\" { escape = true } else if ch == "\"" { quoted = false } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\"": quoted = true; wasQuoted = true
            case ",":
                out.append(!wasQuoted && current == "NULL" ? nil : current)
                current = ""; wasQuoted = false
            default: current.append(ch)
            }
        }
        out.append(!wasQuoted && current == "NULL" ? nil : current)
        return out
    }
}
