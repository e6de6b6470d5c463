import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's provider accounts (its ordered chain).", subcommands: [Add.self, List.self, Update.self, Remove.self, Webhook.self])

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
        @Option(help: webhookSecretHelp) var webhookSecretFile: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let kind = ProviderKind(rawValue: kind) else {
                throw ValidationError("unknown kind \(kind); kinds are \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let settings = try parseConfig(config)
            let secret = try secretFile.map(readSecret)
            // Postmark signs nothing: its webhook password is ours to choose.
            let webhookSecret = try webhookSecretFile.map(readSecret) ?? (kind == .postmark ? ProviderAccount.generateWebhookSecret() : nil)
            let account = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.lowercasedString)") }
                return try await store.addProviderAccount(
                    tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret, config: settings,
                    webhookSecret: webhookSecret, actor: cliActor())
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
        @Option(help: webhookSecretHelp) var webhookSecretFile: String?
        @Flag(help: "Replace the webhook secret with a new random one (shown by `providers webhook`).") var newWebhookSecret = false

        func validate() throws {
            if webhookSecretFile != nil && newWebhookSecret { throw ValidationError("give --webhook-secret-file or --new-webhook-secret, not both") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let settings = try parseConfig(config, allowEmpty: true)
            let secret = try secretFile.map(readSecret)
            let webhookSecret = newWebhookSecret ? ProviderAccount.generateWebhookSecret() : try webhookSecretFile.map(readSecret)
            let newEndpoint: String?? = endpoint.map { $0.isEmpty ? .some(nil) : .some($0) } ?? nil
            let updated = try await database.withPool { pool in
                try await TenantStore(pool: pool).updateProviderAccount(
                    tenantID: tenantID, account: account, name: name, endpoint: newEndpoint, priority: priority, secret: secret, config: settings,
                    webhookSecret: webhookSecret, actor: cliActor())
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

extension Providers {
    struct Webhook: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where an account's provider posts its webhooks, and the secret they are checked with.",
            discussion: """
                Two lines: the webhook URL (Postmark's carries its basic-auth credentials), then the webhook secret, or \
                "no secret" (SES needs none: set its SNS topics with --config sns_topic_arns=ARN,...). docs/TRACKING.md \
                says what to configure at each provider.
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The account's id or name.") var account: String
        @Option(name: Settings.catalogue.trackerURL.name, help: Settings.catalogue.trackerURL.help) var trackerURLFlag: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let trackerURL = try Settings.catalogue.trackerURL.value(flag: trackerURLFlag)
            let chain = try await database.withPool { try await TenantStore(pool: $0).providerChain(tenantID: tenantID) }
            guard let found = chain.first(where: { $0.name == account || $0.id.lowercasedString == account.lowercased() }) else {
                throw ValidationError("tenant \(tenantID.lowercasedString) has no provider account \(account)")
            }
            guard let url = found.webhookURL(trackerBaseURL: trackerURL) else { throw ValidationError("\(found.kind.rawValue) accounts post no webhooks") }
            print(url)
            print(found.webhookSecret ?? "no secret")
        }
    }
}

private let webhookSecretHelp: ArgumentHelp = """
    A file holding what the provider's webhooks are checked with: SendGrid's verification key, Mailgun's webhook \
    signing key, or Postmark's basic-auth password (generated when a Postmark account is added without one).
    """

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
