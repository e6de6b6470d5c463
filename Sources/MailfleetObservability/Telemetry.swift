import Logging
import Metrics
import Prometheus

/// Logging and metrics for a process. Libraries declare metrics here (swift-metrics types, every
/// name starting with `mailfleet_`); each executable calls `bootstrap` once so they reach the
/// Prometheus registry that `/metrics` serves. Tests install `MetricsTestKit`'s factory instead.
public enum Telemetry {
    /// The registry `/metrics` exposes, with the process's memory and CPU gauges.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        ProcessMetrics.register(in: registry)
        return registry
    }()

    /// Routes swift-log to JSON lines on stdout for this service and swift-metrics to the
    /// Prometheus registry. Call once per process, before any service is created.
    public static func bootstrap(service: String, level: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, service: service, level: level) }
        MetricsSystem.bootstrap(PrometheusExporter(registry: registry))
    }

    /// A counter named `mailfleet_<name>`.
    public static func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Metrics.Counter {
        let label = "mailfleet_" + name
        PrometheusExporter.describe(label, .init(help: help))
        return Metrics.Counter(label: label, dimensions: labels)
    }

    /// A gauge named `mailfleet_<name>`.
    public static func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Meter {
        let label = "mailfleet_" + name
        PrometheusExporter.describe(label, .init(help: help))
        return Meter(label: label, dimensions: labels)
    }

    /// A histogram of durations named `mailfleet_<name>` (exposed in seconds).
    public static func durationHistogram(
        _ name: String, help: String, labels: [(String, String)] = [], buckets: [Duration] = Telemetry.latencyBuckets
    ) -> Metrics.Timer {
        let label = "mailfleet_" + name
        PrometheusExporter.describe(label, .init(help: help, durationBuckets: buckets))
        return Metrics.Timer(label: label, dimensions: labels)
    }

    /// A histogram of plain values named `mailfleet_<name>`.
    public static func valueHistogram(_ name: String, help: String, labels: [(String, String)] = [], buckets: [Double]) -> Recorder {
        let label = "mailfleet_" + name
        PrometheusExporter.describe(label, .init(help: help, valueBuckets: buckets))
        return Recorder(label: label, dimensions: labels)
    }

    /// Buckets from 1 ms to 30 s for request and call latencies.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]
}
