import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

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
