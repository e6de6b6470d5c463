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
            let key = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.lowercasedString)") }
                return try await store.createKey(tenantID: tenantID, scopes: parsed, actor: cliActor())
            }
            print(key.plaintext)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's keys: id, scopes, created, last used, revoked (secrets are never shown).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let keys = try await database.withPool { try await TenantStore(pool: $0).keys(tenantID: tenantID) }
            print("id\tscopes\tcreated\tlast_used\trevoked")
            for key in keys {
                print([
                    key.id, key.scopes.map(\.rawValue).joined(separator: ","), ISO8601.format(key.createdAt),
                    key.lastUsedAt.map(ISO8601.format) ?? "-", key.revokedAt.map(ISO8601.format) ?? "-",
                ].joined(separator: "\t"))
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
            guard let record else { throw ValidationError("no key \(id)") }
            print("revoked \(record.id) at \(record.revokedAt.map(ISO8601.format) ?? "-")")
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
            guard let rotated else { throw ValidationError("no working key \(id)") }
            print(rotated.key.plaintext)
        }
    }
}

/// Who the CLI acts as in the audit log.
func cliActor() -> String {
    "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown")
}
