import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage tenants.", subcommands: [Create.self, List.self, SetRateLimit.self, SetWeight.self, SetRetention.self, SetTracking.self, SetQuota.self, Quota.self, Health.self, ResumeBulk.self, SetLimits.self, Warmup.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant and print its id.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "The tenant's name.") var name: String

        func run() async throws {
            let id = try await database.withPool { try await TenantStore(pool: $0).createTenant(name: name, actor: cliActor()) }
            print(id.lowercasedString)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants, oldest first: id, name, created.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions

        /// A tenant as `--json` prints it.
        struct Row: Encodable {
            var id: String
            var name: String
            var createdAt: Date
        }

        func run() async throws {
            let tenants = try await database.withPool { try await TenantStore(pool: $0).tenants() }
            let rows = tenants.map { Row(id: $0.id.lowercasedString, name: $0.name, createdAt: $0.createdAt) }
            try output.print(rows, empty: "no tenants; `mailfleet tenants create --name NAME` makes one") {
                var table = TextTable([.left("ID"), .left("NAME"), .left("CREATED")])
                for row in rows { table.append([row.id, row.name, TextTable.time(row.createdAt)]) }
                return table
            }
        }
    }

    struct SetRateLimit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-rate-limit", abstract: "Set a tenant's API request limit per minute (--default: back to the API's default).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Requests per minute.") var perMinute: Int?
        @Flag(help: "Use the API's configured default.") var `default` = false

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard (perMinute != nil) != `default` else { throw ValidationError("give exactly one of --per-minute N and --default") }
            if let perMinute, perMinute < 1 { throw ValidationError("--per-minute must be at least 1") }
            let found = try await database.withPool(about: .tenant(tenant)) {
                try await TenantStore(pool: $0).setAPIRateLimit(tenantID: tenantID, perMinute: perMinute, actor: cliActor())
            }
            guard found else { throw AdminError.noTenant(tenant) }
            print("api rate limit: \(perMinute.map { "\($0)/min" } ?? "default")")
        }
    }

    struct SetWeight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-weight", abstract: "Set a tenant's weight in the fair share of each queue lane (default 1).",
            discussion: """
                A tenant of weight N takes N turns' worth of its lane for every one a tenant of weight 1 takes, \
                while both have mail waiting; the workers see a change within a few seconds.
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The weight, \(TenantStore.sendWeights.lowerBound) to \(TenantStore.sendWeights.upperBound).") var weight: Int

        func validate() throws {
            guard TenantStore.sendWeights.contains(weight) else {
                throw ValidationError("--weight must be from \(TenantStore.sendWeights.lowerBound) to \(TenantStore.sendWeights.upperBound)")
            }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let found = try await database.withPool(about: .tenant(tenant)) {
                try await TenantStore(pool: $0).setSendWeight(tenantID: tenantID, weight: weight, actor: cliActor())
            }
            guard found else { throw AdminError.noTenant(tenant) }
            print("fair-share weight: \(weight)")
        }
    }

    struct SetRetention: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-retention", abstract: "Set how many days a tenant's messages and events are kept (--default: the fleet's).",
            discussion: """
                The scheduler deletes a tenant's finished messages, with their events, once they are older than \
                this. It can only shorten the fleet's MAILFLEET_MESSAGE_RETENTION_DAYS: messages of every tenant \
                share each day's partition, which goes whole after the fleet's retention.
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Days, at least 1.") var days: Int?
        @Flag(help: "Use the fleet's retention.") var `default` = false

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard (days != nil) != `default` else { throw ValidationError("give exactly one of --days N and --default") }
            if let days, days < 1 { throw ValidationError("--days must be at least 1") }
            let found = try await database.withPool(about: .tenant(tenant)) {
                try await TenantStore(pool: $0).setRetention(tenantID: tenantID, days: days, actor: cliActor())
            }
            guard found else { throw AdminError.noTenant(tenant) }
            print("retention: \(days.map { "\($0) days (or the fleet's, if shorter)" } ?? "the fleet's")")
        }
    }

    struct SetTracking: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-tracking",
            abstract: "Set a tenant's tracking host and one-click unsubscribe options; options not given keep their values.",
            discussion: """
                The tracking host is the host of the tenant's open, click and unsubscribe links (https); \
                point it at the tracker (a CNAME) first. Bulk mail always carries List-Unsubscribe; \
                --unsubscribe-transactional adds it to transactional mail too.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The tenant's own tracking host, e.g. t.example.com (an optional :port allowed).") var trackingHost: String?
        @Flag(help: "Use the fleet's tracker URL in the tenant's links again.") var defaultTrackingHost = false
        @Option(help: "A mailbox List-Unsubscribe names as well (mailto:).") var unsubscribeMailto: String?
        @Flag(help: "Name no unsubscribe mailbox.") var noUnsubscribeMailto = false
        @Flag(inversion: .prefixedNo, help: "Whether transactional mail carries List-Unsubscribe too.") var unsubscribeTransactional: Bool?

        /// The settings as `--json` prints them.
        struct Row: Encodable {
            var trackingHost: String?
            var unsubscribeMailto: String?
            var unsubscribeTransactional: Bool
        }

        func validate() throws {
            if trackingHost != nil && defaultTrackingHost { throw ValidationError("give at most one of --tracking-host and --default-tracking-host") }
            if unsubscribeMailto != nil && noUnsubscribeMailto { throw ValidationError("give at most one of --unsubscribe-mailto and --no-unsubscribe-mailto") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let host = try trackingHost.map { text in
                guard let host = TenantTracking.normalisedHost(text) else {
                    throw ValidationError("--tracking-host '\(text)' is not a host name (like t.example.com, no scheme or path)")
                }
                return host
            }
            let mailto = try unsubscribeMailto.map { text in
                // The mailbox goes into a header as it is, so it must be plain ASCII.
                guard let address = try? EmailAddress(email: text), address.email.unicodeScalars.allSatisfy(\.isASCII) else {
                    throw ValidationError("--unsubscribe-mailto '\(text)' is not an ASCII email address")
                }
                return address.email
            }
            let settings = try await database.withPool(about: .tenant(tenant)) { pool -> TenantTracking? in
                let store = TenantStore(pool: pool)
                guard var settings = try await store.trackingSettings(tenantIDs: [tenantID])[tenantID] else { return nil }
                if let host { settings.trackingHost = host }
                if defaultTrackingHost { settings.trackingHost = nil }
                if let mailto { settings.unsubscribeMailto = mailto }
                if noUnsubscribeMailto { settings.unsubscribeMailto = nil }
                if let unsubscribeTransactional { settings.unsubscribeTransactional = unsubscribeTransactional }
                guard try await store.setTrackingSettings(tenantID: tenantID, settings, actor: cliActor()) else { return nil }
                return settings
            }
            guard let settings else { throw AdminError.noTenant(tenant) }
            let row = Row(
                trackingHost: settings.trackingHost, unsubscribeMailto: settings.unsubscribeMailto,
                unsubscribeTransactional: settings.unsubscribeTransactional)
            if output.json { return try output.printJSON(row) }
            print("tracking host: \(settings.trackingHost ?? "default (the tracker URL)")")
            print("unsubscribe mailto: \(settings.unsubscribeMailto ?? "none")")
            print("unsubscribe on transactional mail: \(settings.unsubscribeTransactional ? "yes" : "no")")
        }
    }
}
