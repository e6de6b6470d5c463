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
    public func createTenant(name: String) async throws -> UUID {
        let id = UUID()
        try await pool.query("INSERT INTO tenants (id, name) VALUES ($1, $2)", [id, name])
        return id
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
    public func createKey(tenantID: UUID, scopes: [APIScope]) async throws -> APIKey {
        let key = APIKey.generate()
        try await pool.query(
            "INSERT INTO api_keys (id, tenant_id, key_hash, scopes) VALUES ($1, $2, $3, $4)",
            [key.id, tenantID, key.hash, scopes.map(\.rawValue)])
        return key
    }

    /// The tenant and scopes of a presented key, or nil when unknown, revoked or wrong.
    public func authenticate(_ presented: String) async throws -> AuthenticatedKey? {
        guard let key = APIKey(presented: presented) else { return nil }
        let rows = try await pool.query(
            "SELECT tenant_id, key_hash, scopes FROM api_keys WHERE id = $1 AND revoked_at IS NULL", [key.id])
        guard let row = rows.first else { return nil }
        // Compare hashes in constant time so timing does not reveal a prefix match.
        guard ConstantTime.equal(try row.string("key_hash"), key.hash) else { return nil }
        let scopes = PostgresArray.parse(try row.string("scopes")).compactMap { $0.flatMap(APIScope.init(rawValue:)) }
        return AuthenticatedKey(keyID: key.id, tenantID: try row.uuid("tenant_id"), scopes: Set(scopes))
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
        config: [String: String] = [:]
    ) async throws -> ProviderAccount {
        let account = ProviderAccount(
            id: UUID(), tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret,
            config: config)
        try await pool.query(
            """
            INSERT INTO provider_accounts (id, tenant_id, name, kind, endpoint, priority, secret, config)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
            """,
            [account.id, tenantID, name, kind.rawValue, endpoint, priority, secret, ProviderConfigJSON.encode(config)])
        return account
    }

    /// Changes the given fields of one account of a tenant; nil leaves a field as it is.
    /// `config` entries are merged into the stored ones (an empty value removes a key).
    /// Returns false when the tenant has no account with that id or name.
    public func updateProviderAccount(
        tenantID: UUID, account: String, name: String? = nil, endpoint: String?? = nil, priority: Int? = nil,
        secret: String? = nil, config: [String: String] = [:]
    ) async throws -> Bool {
        guard let current = try await providerChain(tenantID: tenantID).first(where: { Self.matches($0, account) }) else {
            return false
        }
        var merged = current.config
        for (key, value) in config { merged[key] = value.isEmpty ? nil : value }
        let rows = try await pool.query(
            """
            UPDATE provider_accounts SET name = $3, endpoint = $4, priority = $5, secret = $6, config = $7::jsonb
            WHERE tenant_id = $1 AND id = $2 RETURNING id
            """,
            [tenantID, current.id, name ?? current.name, endpoint ?? current.endpoint, priority ?? current.priority,
             secret ?? current.secret, ProviderConfigJSON.encode(merged)])
        return !rows.isEmpty
    }

    /// Removes one account (by id or name) from a tenant's chain; false when there was none.
    public func removeProviderAccount(tenantID: UUID, account: String) async throws -> Bool {
        guard let current = try await providerChain(tenantID: tenantID).first(where: { Self.matches($0, account) }) else {
            return false
        }
        return try await !pool.query(
            "DELETE FROM provider_accounts WHERE tenant_id = $1 AND id = $2 RETURNING id", [tenantID, current.id]).isEmpty
    }

    private static func matches(_ account: ProviderAccount, _ reference: String) -> Bool {
        account.name == reference || account.id.uuidString.lowercased() == reference.lowercased()
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
