import Foundation
import MailfleetRuntime
import Metrics

/// A counter family with one series per tenant (label `tenant_id`), for a per-tenant view of
/// the fleet. Tenants are configuration, so the series are bounded by the tenants that exist;
/// each handle is made on a tenant's first count and kept, and callers add a whole batch's
/// counts at once, so the hot path takes the lock once per batch, not per message.
public final class TenantCounter: Sendable {
    private let label: String
    /// The factory in force when the family was declared (the process's, or a test's), since
    /// series are made later, wherever the first count happens.
    private let factory: any MetricsFactory
    private let series = Locked<[UUID: Metrics.Counter]>([:])

    /// A family named `mailfleet_<name>`; no series exists until a tenant's first count.
    public init(_ name: String, help: String) {
        label = "mailfleet_" + name
        factory = MetricsSystem.factory
        PrometheusExporter.describe(label, .init(help: help))
    }

    /// Adds each tenant's count; zero counts make no series.
    public func increment(_ counts: [UUID: Int]) {
        let counters = series.withLock { table in
            counts.compactMap { tenant, count -> (Metrics.Counter, Int)? in
                guard count > 0 else { return nil }
                if let known = table[tenant] { return (known, count) }
                let made = Metrics.Counter(label: label, dimensions: [("tenant_id", tenant.uuidString.lowercased())], factory: factory)
                table[tenant] = made
                return (made, count)
            }
        }
        for (counter, count) in counters { counter.increment(by: Int64(count)) }
    }

    /// Counts one for each element's tenant.
    public func increment<Items: Sequence>(tenantsOf items: Items, _ tenant: (Items.Element) -> UUID) {
        var counts: [UUID: Int] = [:]
        for item in items { counts[tenant(item), default: 0] += 1 }
        increment(counts)
    }
}
