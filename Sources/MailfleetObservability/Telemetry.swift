import Foundation
import Logging
import Prometheus

/// The process's metrics registry and logging setup. Every metric name starts with `mailfleet_`.
public enum Telemetry {
    /// The registry `/metrics` exposes.
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        ProcessMetrics.register(in: registry)
        return registry
    }()

    /// Routes swift-log to JSON lines on stdout for this service.
    public static func bootstrapLogging(service: String, level: Logger.Level) {
        LoggingSystem.bootstrap { label in JSONLogHandler(label: label, service: service, level: level) }
    }

    /// A counter named `mailfleet_<name>`.
    public static func counter(_ name: String, help: String, labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(descriptor: descriptor(name, help), labels: labels)
    }

    /// A gauge named `mailfleet_<name>`.
    public static func gauge(_ name: String, help: String, labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: descriptor(name, help), labels: labels)
    }

    /// A histogram of durations named `mailfleet_<name>` (exposed in seconds).
    public static func durationHistogram(
        _ name: String, help: String, labels: [(String, String)] = [], buckets: [Duration] = Telemetry.latencyBuckets
    ) -> DurationHistogram {
        registry.makeDurationHistogram(descriptor: descriptor(name, help), labels: labels, buckets: buckets)
    }

    /// A histogram of plain values named `mailfleet_<name>`.
    public static func valueHistogram(_ name: String, help: String, labels: [(String, String)] = [], buckets: [Double]) -> ValueHistogram {
        registry.makeValueHistogram(descriptor: descriptor(name, help), labels: labels, buckets: buckets)
    }

    /// Buckets from 1 ms to 30 s for request and call latencies.
    public static let latencyBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10), .seconds(30),
    ]

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "mailfleet", metricName: name, unitName: "", helpText: help)
    }
}

/// Resident memory and CPU time of this process, read from /proc at each scrape.
enum ProcessMetrics {
    static func register(in registry: PrometheusCollectorRegistry) {
        let rss = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "mailfleet", metricName: "process_resident_memory_bytes", unitName: "", helpText: "Resident set size"))
        let peak = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "mailfleet", metricName: "process_peak_resident_memory_bytes", unitName: "", helpText: "Peak resident set size"))
        let cpu = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "mailfleet", metricName: "process_cpu_seconds", unitName: "", helpText: "User plus system CPU time"))
        Sampler.shared.set { 
            let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
            for line in status.split(separator: "\n") {
                if line.hasPrefix("VmRSS:") { rss.set(Double(kilobytes(line)) * 1024) }
                if line.hasPrefix("VmHWM:") { peak.set(Double(kilobytes(line)) * 1024) }
            }
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            let seconds = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
                + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1_000_000
            cpu.set(seconds)
        }
    }

    private static func kilobytes(_ line: Substring) -> Int {
        Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
    }
}

/// Runs a refresh before each exposition (for values read on demand, like RSS).
final class Sampler: @unchecked Sendable {
    static let shared = Sampler()
    private let lock = NSLock()
    private var refresh: (@Sendable () -> Void)?

    func set(_ body: @escaping @Sendable () -> Void) {
        lock.lock()
        refresh = body
        lock.unlock()
    }

    func sample() {
        lock.lock()
        let body = refresh
        lock.unlock()
        body?()
    }
}
