import Foundation
import MailfleetRuntime
import Metrics

/// A gauge family with one series per leading tenant of a group (label `tenant_id`) and one
/// `tenant_id="other"` for the rest, so a per-tenant view stays a few series however many
/// tenants there are: a tenant that leaves the leaders loses its series.
public final class TopTenantGauge: Sendable {
    private let label: String
    private let groupLabel: String
    /// The factory in force when the family was declared (the process's, or a test's).
    private let factory: any MetricsFactory
    private let series = Locked<[String: [String: Meter]]>([:])

    /// A family named `mailfleet_<name>` whose groups are told apart by `groupLabel`.
    public init(_ name: String, groupLabel: String, help: String) {
        label = "mailfleet_" + name
        self.groupLabel = groupLabel
        factory = MetricsSystem.factory
        PrometheusExporter.describe(label, .init(help: help))
    }

    /// Sets `group`'s series to its leaders and `other` (what `total` leaves), removing the
    /// series of tenants no longer among them.
    public func set(_ group: String, leaders: [(tenantID: UUID, ready: Int)], total: Int) {
        var values: [String: Double] = ["other": Double(max(0, total - leaders.reduce(0) { $0 + $1.ready }))]
        for leader in leaders { values[leader.tenantID.uuidString.lowercased()] = Double(leader.ready) }
        let (toSet, toDrop) = series.withLock { table -> ([(Meter, Double)], [Meter]) in
            var known = table[group] ?? [:]
            let toDrop = known.filter { values[$0.key] == nil }.map(\.value)
            known = known.filter { values[$0.key] != nil }
            var toSet: [(Meter, Double)] = []
            for (tenant, value) in values {
                let meter = known[tenant] ?? Meter(label: label, dimensions: [(groupLabel, group), ("tenant_id", tenant)], factory: factory)
                known[tenant] = meter
                toSet.append((meter, value))
            }
            table[group] = known
            return (toSet, toDrop)
        }
        for meter in toDrop { meter.destroy() }
        for (meter, value) in toSet { meter.set(value) }
    }
}
