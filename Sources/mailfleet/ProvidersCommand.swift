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
            let account = try await database.withPool(about: .providerAccount(name: name, tenant: tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
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
                One row per account, first choice first: priority, id, name, kind, endpoint, settings, whether a \
                secret is set, then the fleet's circuit breaker read from Redis: closed, open or half_open (unknown \
                when Redis cannot be reached), when it last changed and, while open, until when (- when none).
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var queue: QueueOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        /// An account as `--json` prints it: the fields `GET /v1/providers` answers, plus its
        /// settings and whether a secret is set (never the secret).
        struct Row: Encodable {
            var id: String
            var name: String
            var kind: String
            var priority: Int
            var endpoint: String?
            var settings: [String: String]
            var secretSet: Bool
            var circuit: Circuit
        }

        /// An account's circuit breaker, shaped as the API's.
        struct Circuit: Encodable {
            var state: String
            var changedAt: Date?
            var openUntil: Date?

            /// From the fleet's state; nil (Redis unreachable) is `unknown`.
            init(_ state: CircuitBreaker.State?) {
                func time(_ ms: Int) -> Date? { ms > 0 ? Date(timeIntervalSince1970: Double(ms) / 1000) : nil }
                self.state = state?.phase.name ?? "unknown"
                changedAt = state.flatMap { time($0.changedAtMs) }
                openUntil = state.flatMap { $0.phase == .open ? time($0.openUntilMs) : nil }
            }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let chain = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await store.providerChain(tenantID: tenantID)
            }
            let circuits = await circuitStates(chain.map(\.id))
            let rows = chain.map { account in
                Row(id: account.id.lowercasedString, name: account.name, kind: account.kind.rawValue, priority: account.priority,
                    endpoint: account.endpoint, settings: account.config, secretSet: account.secret != nil,
                    circuit: Circuit(circuits.map { $0[account.id] ?? CircuitBreaker.State() }))
            }
            try output.print(rows, empty: "tenant '\(tenant)' has no provider accounts") {
                var table = TextTable([
                    .right("PRIORITY"), .left("ID"), .left("NAME"), .left("KIND"), .left("ENDPOINT"), .left("SETTINGS"), .left("SECRET"),
                    .left("CIRCUIT"), .left("CHANGED"), .left("OPEN UNTIL"),
                ])
                for row in rows {
                    let settings = row.settings.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
                    table.append([
                        "\(row.priority)", row.id, row.name, row.kind, row.endpoint ?? "-", settings.isEmpty ? "-" : settings,
                        row.secretSet ? "set" : "none", row.circuit.state, row.circuit.changedAt.map(TextTable.time) ?? "-",
                        row.circuit.openUntil.map(TextTable.time) ?? "-",
                    ])
                }
                return table
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
            let updated = try await database.withPool(about: .providerAccount(name: name ?? account, tenant: tenant)) { pool in
                try await TenantStore(pool: pool).updateProviderAccount(
                    tenantID: tenantID, account: account, name: name, endpoint: newEndpoint, priority: priority, secret: secret, config: settings,
                    webhookSecret: webhookSecret, actor: cliActor())
            }
            guard updated else { throw AdminError(.notFound, "tenant '\(tenant)' has no provider account '\(account)'") }
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
            let removed = try await database.withPool(about: .tenant(tenant)) { try await TenantStore(pool: $0).removeProviderAccount(tenantID: tenantID, account: account, actor: cliActor()) }
            guard removed else { throw AdminError(.notFound, "tenant '\(tenant)' has no provider account '\(account)'") }
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
    // Send limits (messages_per_second, calls_per_second, mailbox_rate.<group>) must be numbers the workers can use.
    if let problem = AccountSendLimits.problems(in: out).first { throw ValidationError("--config \(problem)") }
    return out
}
