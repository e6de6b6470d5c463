import Foundation
import Prometheus

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
