import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

extension Tenants {
    struct SetQuota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-quota",
            abstract: "Set a tenant's daily and monthly message quotas; a period not given keeps its quota.",
            discussion: """
                Periods are UTC calendar days and months. Over a quota the API refuses new messages with \
                429 quota_exceeded and a Retry-After to the period's end; nothing already accepted is held. \
                --unlimited-daily / --unlimited-monthly remove a quota.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Messages per UTC day.") var daily: Int?
        @Option(help: "Messages per UTC month.") var monthly: Int?
        @Flag(help: "No daily quota.") var unlimitedDaily = false
        @Flag(help: "No monthly quota.") var unlimitedMonthly = false

        func validate() throws {
            if daily != nil && unlimitedDaily { throw ValidationError("give at most one of --daily and --unlimited-daily") }
            if monthly != nil && unlimitedMonthly { throw ValidationError("give at most one of --monthly and --unlimited-monthly") }
            if daily == nil && monthly == nil && !unlimitedDaily && !unlimitedMonthly {
                throw ValidationError("give --daily N, --monthly N, --unlimited-daily or --unlimited-monthly")
            }
            if let daily, daily < 1 { throw ValidationError("--daily must be at least 1") }
            if let monthly, monthly < 1 { throw ValidationError("--monthly must be at least 1") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let usage = try await database.withPool(about: .tenant(tenant)) { pool -> [QuotaUsage]? in
                let store = TenantStore(pool: pool)
                guard let current = try await store.quotaUsage(tenantID: tenantID) else { return nil }
                var quota = TenantQuota(daily: current.first { $0.period == .daily }?.limit, monthly: current.first { $0.period == .monthly }?.limit)
                if let daily { quota.daily = daily }
                if unlimitedDaily { quota.daily = nil }
                if let monthly { quota.monthly = monthly }
                if unlimitedMonthly { quota.monthly = nil }
                guard try await store.setQuota(tenantID: tenantID, quota, actor: cliActor()) else { return nil }
                return try await store.quotaUsage(tenantID: tenantID)
            }
            guard let usage else { throw AdminError.noTenant(tenant) }
            try QuotaRow.print(usage, output: output)
        }
    }

    struct Quota: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a tenant's quotas: per UTC day and month, the limit, messages used and when the count resets.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let usage = try await database.withPool(about: .tenant(tenant)) { try await TenantStore(pool: $0).quotaUsage(tenantID: tenantID) }
            guard let usage else { throw AdminError.noTenant(tenant) }
            try QuotaRow.print(usage, output: output)
        }
    }

    /// A period's standing as `--json` prints it.
    struct QuotaRow: Encodable {
        var period: String
        var limit: Int?
        var used: Int
        var remaining: Int?
        var resetsAt: Date

        static func print(_ usage: [QuotaUsage], output: OutputOptions) throws {
            let rows = usage.map { QuotaRow(period: $0.period.rawValue, limit: $0.limit, used: $0.used, remaining: $0.remaining, resetsAt: $0.resetsAt) }
            try output.print(rows, empty: "no quota periods") {
                var table = TextTable([.left("PERIOD"), .right("LIMIT"), .right("USED"), .right("REMAINING"), .left("RESETS")])
                for row in rows {
                    table.append([row.period, row.limit.map { "\($0)" } ?? "unlimited", "\(row.used)", row.remaining.map { "\($0)" } ?? "-", TextTable.time(row.resetsAt)])
                }
                return table
            }
        }
    }
}
