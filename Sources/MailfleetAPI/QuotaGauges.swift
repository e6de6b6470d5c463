import Foundation
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// The quota gauges: how many tenants are near (80 % or more) or at their daily and monthly
/// quotas, per period and level (four series, whatever the number of tenants), read from
/// Postgres every `interval` by every API replica. Refusals are counted by `AcceptPipeline`.
struct QuotaGauges: Sendable {
    /// How often the gauges are read.
    static let interval = Duration.seconds(10)

    let tenants: TenantStore
    let logger: Logger
    /// Each series' setter, by `key(period, level)` (closures keep this module free of the metrics API).
    private let gauges: [String: @Sendable (Double) -> Void]

    init(tenants: TenantStore, logger: Logger) {
        self.tenants = tenants
        self.logger = logger
        var gauges: [String: @Sendable (Double) -> Void] = [:]
        for period in QuotaPeriod.allCases {
            for level in QuotaUsage.Level.allCases {
                let gauge = Telemetry.gauge(
                    "quota_tenants", help: "Tenants near (80 % or more) or at their daily or monthly message quota",
                    labels: [("period", period.rawValue), ("level", level.rawValue)])
                gauge.set(0)
                gauges[Self.key(period, level)] = { gauge.set($0) }
            }
        }
        self.gauges = gauges
    }

    /// Reads every limited tenant's standing and sets the gauges; a failed read keeps the last values.
    func sample() async {
        do {
            var counts: [String: Int] = [:]
            for usage in try await tenants.limitedTenantsUsage().values.joined() {
                if let level = usage.level { counts[Self.key(usage.period, level), default: 0] += 1 }
            }
            for (key, set) in gauges { set(Double(counts[key] ?? 0)) }
        } catch {
            logger.debug("reading quota standings failed", metadata: ["error": "\(error)"])
        }
    }

    private static func key(_ period: QuotaPeriod, _ level: QuotaUsage.Level) -> String { "\(period.rawValue):\(level.rawValue)" }
}
