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
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let tenants = try await database.withPool { try await TenantStore(pool: $0).tenants() }
            for tenant in tenants { print("\(tenant.id.lowercasedString)\t\(tenant.name)\t\(ISO8601.format(tenant.createdAt))") }
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
            let found = try await database.withPool {
                try await TenantStore(pool: $0).setAPIRateLimit(tenantID: tenantID, perMinute: perMinute, actor: cliActor())
            }
            guard found else { throw ValidationError("no tenant \(tenantID.lowercasedString)") }
            print("api rate limit: \(perMinute.map { "\($0)/min" } ?? "default")")
        }
    }
}
