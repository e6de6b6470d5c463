import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

extension Tenants {
    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a tenant's sender health: counts and rates over 1 h and 24 h, in total and per From domain, and its bulk pauses.",
            discussion: """
                Rates are shares of sent mail: bounce = hard bounces, complaint = complaints. Bulk mail pauses by itself \
                when complaints pass 0.3 % or hard bounces the configured share over a window holding the minimum volume; \
                `mailfleet tenants resume-bulk` lifts the pause.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let report = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return SenderHealthReport(
                    tenantID: tenantID, health: try await store.domainHealth(tenantID: tenantID), pauses: try await store.bulkPauses(tenantID: tenantID))
            }
            if output.json { return try output.printJSON(report) }
            var table = TextTable([
                .left("DOMAIN"), .left("WINDOW"), .right("SENT"), .right("DELIVERED"), .right("HARD"), .right("SOFT"), .right("COMPLAINED"),
                .right("BOUNCE"), .right("COMPLAINT"), .left("BULK"),
            ])
            func append(_ domain: String, _ window: HealthWindow, _ counts: SenderHealthReport.Window, paused: Bool) {
                table.append([
                    domain, window.rawValue, "\(counts.sent)", "\(counts.delivered)", "\(counts.hardBounced)", "\(counts.softBounced)",
                    "\(counts.complained)", counts.bounceRate.map(HealthPolicy.percent) ?? "-", counts.complaintRate.map(HealthPolicy.percent) ?? "-",
                    paused ? "paused" : "sending",
                ])
            }
            append("(all)", .hour, report.last1h, paused: report.pauses.contains { $0.domain == nil })
            append("(all)", .day, report.last24h, paused: report.pauses.contains { $0.domain == nil })
            for domain in report.domains {
                append(domain.domain, .hour, domain.last1h, paused: domain.bulkPaused)
                append(domain.domain, .day, domain.last24h, paused: domain.bulkPaused)
            }
            print(table.text, terminator: "")
            if report.pauses.isEmpty {
                print("bulk mail: sending")
            }
            for pause in report.pauses {
                print("bulk paused since \(pause.pausedAt) (\(pause.domain ?? "every domain")): \(pause.reason)")
            }
        }
    }

    struct ResumeBulk: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resume-bulk", abstract: "Lift a tenant's bulk pauses (all, or one From domain's); audited.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Lift only this From domain's pause.") var domain: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let resumed = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await store.resumeBulk(tenantID: tenantID, domain: domain?.lowercased(), actor: cliActor())
            }
            let rows = resumed.map(SenderHealthReport.Pause.init)
            try output.print(rows, empty: "nothing to resume: no bulk pause in force") {
                var table = TextTable([.left("RESUMED"), .left("PAUSED AT"), .left("REASON")])
                for row in rows { table.append([row.domain ?? "(every domain)", row.pausedAt, row.reason]) }
                return table
            }
        }
    }
}
