import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Tenants: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage tenants.", subcommands: [Create.self, List.self, SetRateLimit.self])

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
}
