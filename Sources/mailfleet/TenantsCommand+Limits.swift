import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

extension Tenants {
    struct SetLimits: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-limits",
            abstract: "Set a tenant's send limits (messages per second, caps per mailbox provider) and show them; options not given keep their values.",
            discussion: """
                Limits are fleet-wide and enforced by the workers in Redis; a message over a limit waits, it never fails. \
                A mailbox provider's cap applies per provider account (an account's --config mailbox_rate.<group>=N overrides it). \
                Groups: \(MailboxProvider.allCases.map { "\($0.rawValue) (default \($0.defaultMessagesPerSecond)/s)" }.joined(separator: ", ")). \
                Workers see a change within their cache time (10 s). With no option, shows the limits and warm-ups.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var queue: QueueOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Messages per second for the whole tenant (a whole number ≥ 1), or unlimited.") var messagesPerSecond: String?
        @Option(help: "A mailbox provider's cap, group=N (N ≥ 1), group=unlimited or group=default (repeatable).") var mailboxRate: [String] = []

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let rate = try messagesPerSecond.map { text -> Int? in
                if text == "unlimited" { return nil }
                guard let value = Int(text), value >= 1 else { throw ValidationError("--messages-per-second takes a whole number of at least 1, or unlimited") }
                return value
            }
            var changes: [(MailboxProvider, Int?)] = []
            for pair in mailboxRate {
                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, let group = MailboxProvider(rawValue: parts[0]) else {
                    throw ValidationError("--mailbox-rate takes group=N with group one of \(MailboxProvider.allCases.map(\.rawValue).joined(separator: ", ")), got \(pair)")
                }
                switch parts[1] {
                case "default": changes.append((group, nil))
                case "unlimited": changes.append((group, 0))
                default:
                    guard let value = Int(parts[1]), value >= 1 else { throw ValidationError("--mailbox-rate \(pair): give N ≥ 1, unlimited or default") }
                    changes.append((group, value))
                }
            }
            let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
            defer { redis.shutdown() }
            let report = try await database.withPool(about: .tenant(tenant)) { pool -> SendLimitsReport in
                let store = TenantStore(pool: pool)
                guard var limits = try await store.sendLimits(tenantIDs: [tenantID])[tenantID] else { throw AdminError.noTenant(tenant) }
                if rate != nil || !changes.isEmpty {
                    if let rate { limits.messagesPerSecond = rate }
                    for (group, value) in changes { limits.mailboxRates[group] = value }
                    try await store.setSendLimits(tenantID: tenantID, limits, actor: cliActor())
                }
                guard let report = try await store.sendLimitsReport(tenantID: tenantID, counter: WarmupCounter(redis: redis)) else { throw AdminError.noTenant(tenant) }
                return report
            }
            if output.json { return try output.printJSON(report) }
            print("messages per second: \(report.messagesPerSecond.map(String.init) ?? "unlimited")")
            var table = TextTable([.left("MAILBOX PROVIDER"), .right("PER SECOND PER ACCOUNT"), .left("SOURCE")])
            for rate in report.mailboxRates { table.append([rate.provider, rate.messagesPerSecond.map(String.init) ?? "unlimited", rate.source]) }
            print(table.text, terminator: "")
            if !report.warmups.isEmpty { print(Warmup.table(report.warmups).text, terminator: "") }
        }
    }

    struct Warmup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Warm up a tenant's sending domains: a daily cap that grows by day (UTC); mail over today's cap waits for tomorrow.",
            subcommands: [Start.self, List.self, Stop.self])

        /// The progress table shared by `list` and `set-limits`.
        static func table(_ warmups: [WarmupProgress]) -> TextTable {
            var table = TextTable([.left("DOMAIN"), .left("STARTED"), .right("DAY"), .right("CAP TODAY"), .right("SENT TODAY"), .left("SCHEDULE"), .left("RESETS")])
            for warmup in warmups {
                table.append([
                    warmup.domain, warmup.startedOn, "\(warmup.day)", warmup.capToday.map(String.init) ?? "warm",
                    warmup.sentToday.map(String.init) ?? "unknown", warmup.defaultSchedule ? "default (\(warmup.days) days)" : "custom (\(warmup.days) days)",
                    warmup.resetsAt,
                ])
            }
            return table
        }

        struct Start: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Start (or restart) a sending domain's warm-up.",
                discussion: """
                    The default ramp is \(WarmupSchedule.defaultCaps.map(String.init).joined(separator: ", ")) messages a day \
                    (SendGrid's recommended IP warm-up schedule); after its last day the domain is warm and has no cap.
                    """)
            @OptionGroup var database: DatabaseOptions
            @Option(help: "Tenant id.") var tenant: String
            @Option(help: "The From domain to warm up.") var domain: String
            @Option(help: "Daily caps, day 1 first, comma-separated, never shrinking (default: the built-in ramp).") var schedule: String?
            @Option(help: "The first day, yyyy-MM-dd (UTC; default today).") var startedOn: String?

            func run() async throws {
                let tenantID = try parseTenant(tenant)
                let domain = try warmupDomain(domain)
                let caps = try schedule.map { text -> WarmupSchedule in
                    guard let parsed = WarmupSchedule(text: text) else {
                        throw ValidationError("--schedule takes daily caps like 50,100,500: whole numbers ≥ 1, never shrinking, at most \(WarmupSchedule.maxDays)")
                    }
                    return parsed
                } ?? WarmupSchedule()
                let start = try startedOn.map { text -> Date in
                    guard text.count == 10, let date = ISO8601.parse(text + "T00:00:00Z") else { throw ValidationError("--started-on takes yyyy-MM-dd") }
                    return date
                } ?? Date()
                let found = try await database.withPool(about: .tenant(tenant)) { pool in
                    try await TenantStore(pool: pool).startWarmup(
                        MailfleetStore.Warmup(tenantID: tenantID, domain: domain, startedOn: start, schedule: caps), defaultSchedule: schedule == nil, actor: cliActor())
                }
                guard found else { throw AdminError.noTenant(tenant) }
                print("warming up \(domain) from \(WarmupSchedule.dateText(start)): \(caps.dailyCaps.count) days, day 1 cap \(caps.dailyCaps[0])")
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "List a tenant's warming domains: day, today's cap and count (from Redis), and when the count resets.")
            @OptionGroup var database: DatabaseOptions
            @OptionGroup var queue: QueueOptions
            @OptionGroup var output: OutputOptions
            @Option(help: "Tenant id.") var tenant: String

            func run() async throws {
                let tenantID = try parseTenant(tenant)
                let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
                defer { redis.shutdown() }
                let report = try await database.withPool(about: .tenant(tenant)) { pool in
                    try await TenantStore(pool: pool).sendLimitsReport(tenantID: tenantID, counter: WarmupCounter(redis: redis))
                }
                guard let report else { throw AdminError.noTenant(tenant) }
                try output.print(report.warmups, empty: "no domain warming up; `mailfleet tenants warmup start` starts one") { Warmup.table(report.warmups) }
            }
        }

        struct Stop: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "End a sending domain's warm-up: no cap any more.")
            @OptionGroup var database: DatabaseOptions
            @Option(help: "Tenant id.") var tenant: String
            @Option(help: "The From domain.") var domain: String

            func run() async throws {
                let tenantID = try parseTenant(tenant)
                let domain = try warmupDomain(domain)
                let stopped = try await database.withPool(about: .tenant(tenant)) { pool in
                    try await TenantStore(pool: pool).stopWarmup(tenantID: tenantID, domain: domain, actor: cliActor())
                }
                guard stopped else { throw AdminError(.notFound, "tenant '\(tenant)' has no warm-up of \(domain)") }
                print("stopped")
            }
        }
    }
}

/// A From domain as messages carry it: lowercased ASCII (IDNA), as `EmailAddress` stores it.
private func warmupDomain(_ text: String) throws -> String {
    guard let address = try? EmailAddress(email: "postmaster@\(text)"), !text.contains("@") else {
        throw ValidationError("--domain '\(text)' is not a domain name")
    }
    return address.domain
}
