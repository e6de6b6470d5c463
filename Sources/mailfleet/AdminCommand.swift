import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

/// `mailfleet`: the admin CLI.
@main
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailfleet",
        abstract: "Mailfleet administration: schema, tenants, API keys, provider accounts, status.",
        subcommands: [Migrate.self, Tenants.self, Keys.self, Providers.self, Status.self])
}

/// Options shared by every subcommand that talks to Postgres.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "Postgres URL (MAILFLEET_DATABASE_URL).")
    var databaseURL = ProcessInfo.processInfo.environment["MAILFLEET_DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:55432/mailfleet"

    /// Runs `body` with a one-connection pool, closing it afterwards.
    func withPool<T: Sendable>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        let pool = PostgresPool(url: databaseURL, size: 1, name: "cli-pg")
        do {
            let result = try await body(pool)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}

func parseTenant(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("--tenant must be a tenant id (a UUID); `mailfleet tenants list` shows them") }
    return id
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations (idempotent; safe to run concurrently).")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let applied = try await database.withPool { try await Migrator(pool: $0).migrate() }
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage tenants.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its id.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant's name.") var name: String

        func run() async throws {
            let id = try await database.withPool { try await TenantStore(pool: $0).createTenant(name: name) }
            print(id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let tenants = try await database.withPool { try await TenantStore(pool: $0).tenants() }
            for tenant in tenants { print("\(tenant.id.uuidString.lowercased())\t\(tenant.name)\t\(ISO8601.format(tenant.createdAt))") }
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self])

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
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.uuidString.lowercased())") }
                return try await store.createKey(tenantID: tenantID, scopes: parsed)
            }
            print(key.plaintext)
        }
    }
}

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage a tenant's provider accounts (its ordered chain).", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a provider account to a tenant's chain.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "A name unique within the tenant.") var name: String
        @Option(help: "Provider kind: \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @Option(help: "Endpoint override (a simulator or gateway URL).") var endpoint: String?
        @Option(help: "Position in the chain; lower goes first.") var priority = 100
        @Option(help: "A file holding the account's secret (API key); read, never echoed.") var secretFile: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let kind = ProviderKind(rawValue: kind) else {
                throw ValidationError("unknown kind \(kind); kinds are \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var secret: String?
            if let secretFile {
                guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8) else { throw ValidationError("cannot read \(secretFile)") }
                secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let account = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.uuidString.lowercased())") }
                return try await store.addProviderAccount(tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret)
            }
            print(account.id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's chain (secrets are never shown).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let chain = try await database.withPool { try await TenantStore(pool: $0).providerChain(tenantID: tenantID) }
            for account in chain {
                print("\(account.priority)\t\(account.id.uuidString.lowercased())\t\(account.name)\t\(account.kind.rawValue)\t\(account.endpoint ?? "-")\t\(account.secret == nil ? "no secret" : "secret set")")
            }
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Message counts by status and queue depths.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Redis URL (MAILFLEET_REDIS_URL).")
    var redisURL = ProcessInfo.processInfo.environment["MAILFLEET_REDIS_URL"] ?? "redis://127.0.0.1:56379/0"
    @Option(help: "Queue partitions (MAILFLEET_PARTITIONS).")
    var partitions = Int(ProcessInfo.processInfo.environment["MAILFLEET_PARTITIONS"] ?? "") ?? 8

    func run() async throws {
        let counts = try await database.withPool { try await MessageStore(pool: $0).countsByStatus() }
        print("messages:")
        for status in MessageStatus.allCases { print("  \(status.rawValue)\t\(counts[status.rawValue] ?? 0)") }
        let redis = RedisClient(url: redisURL, connections: 1, name: "cli-redis")
        defer { redis.shutdown() }
        let depth = try await MessageQueue(redis: redis, partitioning: Partitioning(count: partitions)).depth()
        print("queue:")
        print("  ready (transactional)\t\(depth.readyTransactional)")
        print("  ready (bulk)\t\(depth.readyBulk)")
        print("  leased\t\(depth.leased)")
        print("  delayed\t\(depth.delayed)")
        print("  dead\t\(depth.dead)")
    }
}
