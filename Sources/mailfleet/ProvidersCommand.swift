import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's provider accounts (its ordered chain).", subcommands: [Add.self, List.self, Update.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a provider account to a tenant's chain.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "A name unique within the tenant.") var name: String
        @Option(help: "Provider kind: \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @Option(help: "Endpoint override (a simulator or gateway URL; for smtp the smtp:// or smtps:// URL).") var endpoint: String?
        @Option(help: "Position in the chain; lower goes first.") var priority = 100
        @Option(help: "A file holding the account's secret (API key); read, never echoed.") var secretFile: String?
        @Option(help: "A provider setting, key=value (repeatable), e.g. domain=mg.example.com, region=us-east-1.") var config: [String] = []

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let kind = ProviderKind(rawValue: kind) else {
                throw ValidationError("unknown kind \(kind); kinds are \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let settings = try parseConfig(config)
            let secret = try secretFile.map(readSecret)
            let account = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.lowercasedString)") }
                return try await store.addProviderAccount(
                    tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret, config: settings, actor: cliActor())
            }
            print(account.id.lowercasedString)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List a tenant's chain with each account's circuit breaker (secrets are never shown).",
            discussion: """
                One line per account, tab-separated: priority, id, name, kind, endpoint, settings, secret, then the \
                fleet's circuit breaker read from Redis: circuit=closed|open|half_open (unknown when Redis cannot \
                be reached), changed=<last transition>, open_until=<end of the open period> (times in UTC, - when none).
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var queue: QueueOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let chain = try await database.withPool { try await TenantStore(pool: $0).providerChain(tenantID: tenantID) }
            let circuits = await circuitStates(chain.map(\.id))
            for account in chain {
                let settings = account.config.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                print("\(account.priority)\t\(account.id.lowercasedString)\t\(account.name)\t\(account.kind.rawValue)\t\(account.endpoint ?? "-")\t\(settings.isEmpty ? "-" : settings)\t\(account.secret == nil ? "no secret" : "secret set")\t\(Self.circuit(circuits?[account.id]))")
            }
        }

        /// The breakers of `accounts`, or nil when Redis cannot be reached: the listing still
        /// shows the accounts (from Postgres), with their circuits unknown.
        private func circuitStates(_ accounts: [UUID]) async -> [UUID: CircuitBreaker.State]? {
            do {
                let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
                defer { redis.shutdown() }
                return try await CircuitBreakerStore(redis: redis).states(accounts: accounts)
            } catch {
                FileHandle.standardError.write(Data("circuit breakers unknown: Redis cannot be reached (\(error))\n".utf8))
                return nil
            }
        }

        /// The circuit columns of one account.
        static func circuit(_ state: CircuitBreaker.State?) -> String {
            guard let state else { return "circuit=unknown\tchanged=-\topen_until=-" }
            func time(_ ms: Int) -> String { ms > 0 ? ISO8601.format(Date(timeIntervalSince1970: Double(ms) / 1000)) : "-" }
            return "circuit=\(state.phase.name)\tchanged=\(time(state.changedAtMs))\topen_until=\(time(state.phase == .open ? state.openUntilMs : 0))"
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a provider account; options not given stay as they are.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The account's id or name.") var account: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new endpoint override; an empty value goes back to the provider's own.") var endpoint: String?
        @Option(help: "A new position in the chain.") var priority: Int?
        @Option(help: "A file holding the new secret; read, never echoed.") var secretFile: String?
        @Option(help: "A provider setting, key=value (repeatable; key= removes it).") var config: [String] = []

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let settings = try parseConfig(config, allowEmpty: true)
            let secret = try secretFile.map(readSecret)
            let newEndpoint: String?? = endpoint.map { $0.isEmpty ? .some(nil) : .some($0) } ?? nil
            let updated = try await database.withPool { pool in
                try await TenantStore(pool: pool).updateProviderAccount(
                    tenantID: tenantID, account: account, name: name, endpoint: newEndpoint, priority: priority, secret: secret, config: settings, actor: cliActor())
            }
            guard updated else { throw ValidationError("tenant \(tenantID.lowercasedString) has no provider account \(account)") }
            print("updated")
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a provider account from a tenant's chain.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The account's id or name.") var account: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let removed = try await database.withPool { try await TenantStore(pool: $0).removeProviderAccount(tenantID: tenantID, account: account, actor: cliActor()) }
            guard removed else { throw ValidationError("tenant \(tenantID.lowercasedString) has no provider account \(account)") }
            print("removed")
        }
    }
}

/// Reads a secret file; the secret itself never appears in output or errors.
private func readSecret(_ path: String) throws -> String {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ValidationError("cannot read \(path)") }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// `key=value` options as a dictionary.
private func parseConfig(_ pairs: [String], allowEmpty: Bool = false) throws -> [String: String] {
    var out: [String: String] = [:]
    for pair in pairs {
        guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else { throw ValidationError("--config takes key=value, got \(pair)") }
        let value = String(pair[pair.index(after: eq)...])
        guard allowEmpty || !value.isEmpty else { throw ValidationError("--config \(pair) has no value") }
        out[String(pair[..<eq])] = value
    }
    return out
}
