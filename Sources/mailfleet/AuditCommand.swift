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
        @OptionGroup var output: OutputOptions
        @Option(help: "Only this tenant's entries.") var tenant: String?
        @Option(help: "At most this many entries.") var limit = 100

        /// An entry as `--json` prints it; `detail` is the JSON object recorded (never a secret).
        struct Row: Encodable {
            var occurredAt: Date?
            var tenantId: String?
            var actor: String
            var action: String
            var target: String?
            var detail: JSONValue
        }

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let tenantID = try tenant.map(parseTenant)
            let entries = try await database.withPool { try await AuditLog(pool: $0).entries(tenantID: tenantID, limit: limit) }
            let rows = entries.map { entry in
                Row(occurredAt: entry.occurredAt, tenantId: entry.tenantID?.lowercasedString, actor: entry.actor, action: entry.action,
                    target: entry.target, detail: (try? JSONDecoder().decode(JSONValue.self, from: Data(entry.detailJSON.utf8))) ?? .object([:]))
            }
            try output.print(rows, empty: "no audit entries") {
                var table = TextTable([.left("TIME"), .left("TENANT"), .left("ACTOR"), .left("ACTION"), .left("TARGET"), .left("DETAIL")])
                for (row, entry) in zip(rows, entries) {
                    table.append([
                        row.occurredAt.map(TextTable.time) ?? "-", row.tenantId ?? "-", row.actor, row.action, row.target ?? "-", entry.detailJSON,
                    ])
                }
                return table
            }
        }
    }
}
