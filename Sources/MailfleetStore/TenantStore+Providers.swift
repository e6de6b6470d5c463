import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// Adds a provider account to a tenant's chain.
    public func addProviderAccount(
        tenantID: UUID, name: String, kind: ProviderKind, endpoint: String?, priority: Int, secret: String?,
        config: [String: String] = [:], webhookSecret: String? = nil, actor: String = "system"
    ) async throws -> ProviderAccount {
        let account = ProviderAccount(
            id: UUID(), tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret,
            config: config, webhookSecret: webhookSecret)
        try await pool.transaction { connection in
            try connection.query(
                """
                INSERT INTO provider_accounts (id, tenant_id, name, kind, endpoint, priority, secret, config, webhook_secret)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9)
                """,
                [account.id, tenantID, name, kind.rawValue, endpoint, priority, secret, ProviderConfigJSON.encode(config), webhookSecret])
            try AuditLog.record(
                Self.providerAudit("provider.added", account, actor: actor, secretSet: secret != nil, webhookSecretSet: webhookSecret != nil), on: connection)
        }
        return account
    }

    /// An audit entry for a provider account change; never carries a secret, only whether one is set.
    static func providerAudit(_ action: String, _ account: ProviderAccount, actor: String, secretSet: Bool, webhookSecretSet: Bool = false) -> AuditEntry {
        var detail: [String: String] = [
            "name": account.name, "kind": account.kind.rawValue, "endpoint": account.endpoint ?? "",
            "priority": String(account.priority), "secret": secretSet ? "set" : "unchanged",
        ]
        if webhookSecretSet { detail["webhook_secret"] = "set" }
        return AuditEntry(tenantID: account.tenantID, actor: actor, action: action, target: account.id.lowercasedString, detail: detail)
    }

    /// Changes the given fields of one account of a tenant; nil leaves a field as it is.
    /// `config` entries are merged into the stored ones (an empty value removes a key).
    /// Returns false when the tenant has no account with that id or name.
    public func updateProviderAccount(
        tenantID: UUID, account: String, name: String? = nil, endpoint: String?? = nil, priority: Int? = nil,
        secret: String? = nil, config: [String: String] = [:], webhookSecret: String? = nil, actor: String = "system"
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
                UPDATE provider_accounts SET name = $3, endpoint = $4, priority = $5, secret = $6, config = $7::jsonb, webhook_secret = $8
                WHERE tenant_id = $1 AND id = $2 RETURNING id
                """,
                [tenantID, current.id, changed.name, changed.endpoint, changed.priority,
                 secret ?? current.secret, ProviderConfigJSON.encode(mergedConfig), webhookSecret ?? current.webhookSecret])
            if !rows.isEmpty {
                try AuditLog.record(
                    Self.providerAudit("provider.updated", changed, actor: actor, secretSet: secret != nil, webhookSecretSet: webhookSecret != nil), on: connection)
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
            SELECT \(Self.providerColumns) FROM provider_accounts
            WHERE tenant_id = ANY($1::uuid[]) ORDER BY tenant_id, priority, created_at
            """, [tenantIDs])
        var chains: [UUID: [ProviderAccount]] = [:]
        for row in rows {
            guard let account = try Self.providerAccount(row) else { continue }
            chains[account.tenantID, default: []].append(account)
        }
        return chains
    }

    /// One account by id, whatever its tenant (a webhook URL names only the account), or nil.
    public func providerAccount(id: UUID) async throws -> ProviderAccount? {
        try await pool.query("SELECT \(Self.providerColumns) FROM provider_accounts WHERE id = $1", [id]).first.flatMap(Self.providerAccount)
    }

    static let providerColumns = "id, tenant_id, name, kind, endpoint, priority, secret, config::text AS config, webhook_secret"

    /// An account from a row of `providerColumns`; nil for a kind this build does not know.
    static func providerAccount(_ row: PostgresRow) throws -> ProviderAccount? {
        guard let kind = ProviderKind(rawValue: try row.string("kind")) else { return nil }
        return ProviderAccount(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"), kind: kind,
            endpoint: row.optionalString("endpoint"), priority: try row.int("priority"), secret: row.optionalString("secret"),
            config: ProviderConfigJSON.decode(row.optionalString("config")), webhookSecret: row.optionalString("webhook_secret"))
    }
}
