import Foundation
import MailfleetObservability
import Metrics
import MetricsTestKit
import Testing

/// Per-tenant counters: one series per tenant, made on its first count, in the factory the family was declared with.
@Suite(.serialized) struct TenantCounterTests {
    @Test func eachTenantCountsInItsOwnSeries() throws {
        let metrics = TestMetrics()
        let counter = withMetricsFactory(metrics) { TenantCounter("test_tenant_total", help: "test") }
        let a = UUID(), b = UUID(), quiet = UUID()
        // Counted outside the factory's scope, as a pipeline's commit task does: the series
        // still go to the factory the family was declared with.
        counter.increment([a: 3, b: 1, quiet: 0])
        counter.increment(tenantsOf: [a, b, b, a, a], { $0 })
        #expect(try metrics.expectCounter("mailfleet_test_tenant_total", [("tenant_id", a.uuidString.lowercased())]).totalValue == 6)
        #expect(try metrics.expectCounter("mailfleet_test_tenant_total", [("tenant_id", b.uuidString.lowercased())]).totalValue == 3)
        #expect(throws: (any Error).self) {
            try metrics.expectCounter("mailfleet_test_tenant_total", [("tenant_id", quiet.uuidString.lowercased())])
        }
    }
}
