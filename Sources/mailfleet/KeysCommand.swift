import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage API keys.", subcommands: [Create.self, List.self, Revoke.self, Rotate.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key and print it (shown once; only its hash is stored).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Comma-separated scopes: send, read, admin.") var scopes = "send,read"

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            var parsed: [APIScope] = []
            for name in scopes.split(separator: ",") {
                guard let scope = APIScope(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown scope \(name); scopes are send, read, admin")
                }
                parsed.append(scope)
            }
            let key = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await store.createKey(tenantID: tenantID, scopes: parsed, actor: cliActor())
            }
            print(key.plaintext)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's keys, newest first: id, scopes, created, last used, revoked (secrets are never shown).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        /// A key as `--json` prints it (never its secret, which is not stored).
        struct Row: Encodable {
            var id: String
            var tenantId: String
            var scopes: [String]
            var createdAt: Date
            var lastUsedAt: Date?
            var revokedAt: Date?
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let keys = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await store.keys(tenantID: tenantID)
            }
            let rows = keys.map {
                Row(id: $0.id, tenantId: $0.tenantID.lowercasedString, scopes: $0.scopes.map(\.rawValue), createdAt: $0.createdAt,
                    lastUsedAt: $0.lastUsedAt, revokedAt: $0.revokedAt)
            }
            try output.print(rows, empty: "tenant '\(tenant)' has no keys") {
                var table = TextTable([.left("ID"), .left("SCOPES"), .left("CREATED"), .left("LAST USED"), .left("REVOKED")])
                for row in rows {
                    table.append([
                        row.id, row.scopes.joined(separator: ","), TextTable.time(row.createdAt),
                        row.lastUsedAt.map(TextTable.time) ?? "-", row.revokedAt.map(TextTable.time) ?? "-",
                    ])
                }
                return table
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key. The API stops accepting it within 10 seconds (its authentication cache).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The key's public id (the 8 characters after mf_live_).") var id: String

        func run() async throws {
            let record = try await database.withPool { try await TenantStore(pool: $0).revokeKey(id: id, actor: cliActor()) }
            guard let record else { throw AdminError(.notFound, "no key '\(id)'") }
            print("revoked \(record.id) at \(record.revokedAt.map(TextTable.time) ?? "-")")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new key with the same tenant and scopes, print it, and revoke the old one (optionally after a grace period).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The old key's public id.") var id: String
        @Option(help: "Seconds the old key keeps working, so clients can switch (default 0: at once).") var grace: Double = 0

        func run() async throws {
            guard grace >= 0, grace <= 30 * 86_400 else { throw ValidationError("--grace must be 0 to 2592000 seconds") }
            let rotated = try await database.withPool { try await TenantStore(pool: $0).rotateKey(id: id, grace: grace, actor: cliActor()) }
            guard let rotated else { throw AdminError(.notFound, "no working key '\(id)'") }
            print(rotated.key.plaintext)
        }
    }
}

/// Who the CLI acts as in the audit log.
func cliActor() -> String {
    "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")
}
