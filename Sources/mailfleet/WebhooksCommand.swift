import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's webhook endpoints (events pushed to the tenant, signed per Standard Webhooks).",
        subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self, RotateSecret.self, Attempts.self, Resend.self])

    /// An endpoint as `--json` prints it (the secret only from create and rotate-secret).
    struct Row: Encodable {
        var id: String
        var tenantId: String
        var url: String
        var eventTypes: [String]
        var enabled: Bool
        var batch: Bool
        var disabledReason: String?
        var disabledAt: Date?
        var previousSecretExpiresAt: Date?
        var createdAt: Date
        var secret: String?

        init(_ endpoint: WebhookEndpoint, showingSecret: Bool = false) {
            id = endpoint.id.lowercasedString
            tenantId = endpoint.tenantID.lowercasedString
            url = endpoint.url
            eventTypes = endpoint.eventTypes
            enabled = endpoint.enabled
            batch = endpoint.batch
            disabledReason = endpoint.disabledReason
            disabledAt = endpoint.disabledAt
            previousSecretExpiresAt = endpoint.previousSecretExpiresAt.flatMap { $0 > Date() ? $0 : nil }
            createdAt = endpoint.createdAt
            secret = showingSecret ? endpoint.secret.text : nil
        }
    }

    /// The common options naming one endpoint.
    struct EndpointOptions: ParsableArguments {
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Endpoint id.") var id: String

        func parsed() throws -> (tenant: UUID, endpoint: UUID) {
            guard let endpoint = UUID(uuidString: id) else { throw ValidationError("--id '\(id)' is not a valid UUID (an endpoint id); `mailfleet webhooks list` shows them") }
            return (try parseTenant(tenant), endpoint)
        }
    }

    static func eventTypes(_ text: String?) throws -> [String]? {
        guard let text else { return nil }
        let given = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            return try WebhookEndpoint.validate(eventTypes: given)
        } catch {
            throw ValidationError("--event-types: \(error.message)")
        }
    }

    static func checkURL(_ url: String, _ egress: EgressOptions) throws {
        let policy = try egress.policy
        do {
            try WebhookEndpoint.validate(url: url, policy: policy)
        } catch {
            throw ValidationError("--url: \(error.message)")
        }
    }

    static func printEndpoint(_ endpoint: WebhookEndpoint, output: OutputOptions, showingSecret: Bool) throws {
        let row = Row(endpoint, showingSecret: showingSecret)
        if output.json { return try output.printJSON(row) }
        var table = TextTable([.left("FIELD"), .left("VALUE")])
        table.append(["id", row.id])
        table.append(["url", row.url])
        table.append(["event types", row.eventTypes.isEmpty ? "all" : row.eventTypes.joined(separator: ",")])
        table.append(["enabled", row.enabled ? "yes" : "no"])
        table.append(["batch", row.batch ? "yes" : "no"])
        table.append(["disabled", row.disabledAt.map { "\(TextTable.time($0)): \(row.disabledReason ?? "by the tenant")" } ?? "-"])
        table.append(["previous secret until", row.previousSecretExpiresAt.map(TextTable.time) ?? "-"])
        table.append(["created", TextTable.time(row.createdAt)])
        if let secret = row.secret { table.append(["secret", secret]) }
        FileHandle.standardOutput.write(Data(table.text.utf8))
        if showingSecret { FileHandle.standardError.write(Data("the secret is shown only now; keep it where the receiver can read it\n".utf8)) }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an endpoint and print it with its signing secret (shown once).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Where events are posted: an https:// URL.") var url: String
        @Option(help: "Comma-separated event types (\(EventType.webhookTypes.joined(separator: ", "))); all when left out.") var eventTypes: String?
        @Flag(help: "Send up to the batch size of events per request, as a JSON array.") var batch = false
        @Flag(help: "Create it disabled.") var disabled = false
        @OptionGroup var egress: EgressOptions

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            try Webhooks.checkURL(url, egress)
            let types = try Webhooks.eventTypes(eventTypes) ?? []
            let endpoint = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await WebhookStore(pool: pool).create(tenantID: tenantID, url: url, eventTypes: types, batch: batch, enabled: !disabled, actor: cliActor())
            }
            try Webhooks.printEndpoint(endpoint, output: output, showingSecret: true)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's endpoints, oldest first (secrets are never shown).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let endpoints = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await WebhookStore(pool: pool).list(tenantID: tenantID, limit: 1000)
            }
            let rows = endpoints.map { Row($0) }
            try output.print(rows, empty: "tenant '\(tenant)' has no webhook endpoints") {
                var table = TextTable([.left("ID"), .left("URL"), .left("EVENT TYPES"), .left("ENABLED"), .left("BATCH"), .left("DISABLED REASON")])
                for row in rows {
                    table.append([
                        row.id, row.url, row.eventTypes.isEmpty ? "all" : row.eventTypes.joined(separator: ","), row.enabled ? "yes" : "no",
                        row.batch ? "yes" : "no", row.disabledReason ?? "-",
                    ])
                }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one endpoint, with why it is disabled if it is.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            let ids = try endpoint.parsed()
            let found = try await database.withPool(about: .tenant(endpoint.tenant)) { try await WebhookStore(pool: $0).get(tenantID: ids.tenant, id: ids.endpoint) }
            guard let found else { throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'") }
            try Webhooks.printEndpoint(found, output: output, showingSecret: false)
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an endpoint. --enable also re-enables one disabled after failing; its held deliveries resume at once.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "A new URL.") var url: String?
        @Option(help: "Comma-separated event types; an empty value means all.") var eventTypes: String?
        @Flag(inversion: .prefixedEnableDisable, help: "Enable or disable deliveries.") var enable: Bool?
        @Flag(inversion: .prefixedNo, help: "Batch events per request or not.") var batch: Bool?
        @OptionGroup var egress: EgressOptions

        func run() async throws {
            let ids = try endpoint.parsed()
            if let url { try Webhooks.checkURL(url, egress) }
            let change = WebhookEndpointChange(url: url, eventTypes: try Webhooks.eventTypes(eventTypes), enabled: enable, batch: batch)
            let updated = try await database.withPool(about: .tenant(endpoint.tenant)) {
                try await WebhookStore(pool: $0).update(tenantID: ids.tenant, id: ids.endpoint, change: change, actor: cliActor())
            }
            guard let updated else { throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'") }
            try Webhooks.printEndpoint(updated, output: output, showingSecret: false)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint with its pending deliveries and attempt log.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var endpoint: EndpointOptions

        func run() async throws {
            let ids = try endpoint.parsed()
            let deleted = try await database.withPool(about: .tenant(endpoint.tenant)) {
                try await WebhookStore(pool: $0).delete(tenantID: ids.tenant, id: ids.endpoint, actor: cliActor())
            }
            guard deleted else { throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'") }
            print("deleted \(endpoint.id)")
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret", abstract: "Give an endpoint a new secret and print it; the old one keeps signing for the grace period.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "Seconds the old secret keeps signing beside the new one (default 86400, at most 604800).") var grace: Double = WebhookStore.defaultRotationGrace

        func run() async throws {
            guard grace >= 0, grace <= WebhookStore.maxRotationGrace else { throw ValidationError("--grace must be 0 to \(Int(WebhookStore.maxRotationGrace)) seconds") }
            let ids = try endpoint.parsed()
            let rotated = try await database.withPool(about: .tenant(endpoint.tenant)) {
                try await WebhookStore(pool: $0).rotateSecret(tenantID: ids.tenant, id: ids.endpoint, grace: grace, actor: cliActor())
            }
            guard let rotated else { throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'") }
            try Webhooks.printEndpoint(rotated, output: output, showingSecret: true)
        }
    }

    struct Attempts: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "An endpoint's recent attempts, newest first: time, outcome, status, latency, error (the last 1,000, 7 days at most).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "How many (1 to 1000).") var limit = 50

        struct Row: Encodable {
            var id: Int
            var webhookId: String
            var deliveryIds: [Int]
            var status: Int?
            var latencyMs: Int
            var error: String?
            var outcome: String
            var attemptedAt: Date
        }

        func run() async throws {
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            let ids = try endpoint.parsed()
            let attempts = try await database.withPool(about: .tenant(endpoint.tenant)) {
                try await WebhookStore(pool: $0).attempts(tenantID: ids.tenant, endpointID: ids.endpoint, limit: limit)
            }
            guard let attempts else { throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'") }
            let rows = attempts.map {
                Row(id: $0.id, webhookId: $0.webhookID, deliveryIds: $0.deliveryIDs, status: $0.status, latencyMs: $0.latencyMs, error: $0.error,
                    outcome: $0.outcome, attemptedAt: $0.attemptedAt)
            }
            try output.print(rows, empty: "no attempts yet") {
                var table = TextTable([.left("TIME"), .left("OUTCOME"), .right("STATUS"), .right("MS"), .left("WEBHOOK ID"), .left("ERROR")])
                for row in rows {
                    table.append([
                        TextTable.time(row.attemptedAt), row.outcome, row.status.map(String.init) ?? "-", String(row.latencyMs), row.webhookId, row.error ?? "-",
                    ])
                }
                return table
            }
        }
    }

    struct Resend: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send an event to an endpoint again (a new delivery, due now); prints its id.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var endpoint: EndpointOptions
        @Option(help: "The event's id (GET /v1/events).") var event: Int

        func run() async throws {
            let ids = try endpoint.parsed()
            let result = try await database.withPool(about: .tenant(endpoint.tenant)) {
                try await WebhookStore(pool: $0).resend(tenantID: ids.tenant, endpointID: ids.endpoint, eventID: event, actor: cliActor())
            }
            switch result {
            case .queued(let delivery): print(delivery)
            case .noEndpoint: throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no webhook endpoint '\(endpoint.id)'")
            case .noEvent: throw AdminError(.notFound, "tenant '\(endpoint.tenant)' has no event \(event)")
            }
        }
    }
}
