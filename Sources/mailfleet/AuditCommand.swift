import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read the audit log of admin actions.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List admin actions, newest first: time, tenant, actor, action, target, detail.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this tenant's entries.") var tenant: String?
        @Option(help: "At most this many entries.") var limit = 100

        func run() async throws {
            let tenantID = try tenant.map(parseTenant)
            let entries = try await database.withPool { try await AuditLog(pool: $0).entries(tenantID: tenantID, limit: limit) }
            for entry in entries {
                print([
                    entry.occurredAt.map(ISO8601.format) ?? "-", entry.tenantID?.lowercasedString ?? "-", entry.actor,
                    entry.action, entry.target ?? "-", entry.detailJSON,
                ].joined(separator: "\t"))
            }
        }
    }
}
