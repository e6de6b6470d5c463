import MailfleetRuntime
import Metrics
import Prometheus

/// The swift-metrics backend the executables install: every metric goes to the Prometheus
/// registry that `/metrics` serves, with the help text and buckets given where it is declared
/// (`Telemetry.counter` and the like), so the exposition is what the registry wrote directly.
struct PrometheusExporter: MetricsFactory {
    /// What a declaration says about a metric beyond its name.
    struct Description: Sendable {
        var help: String
        var durationBuckets: [Duration]?
        var valueBuckets: [Double]?
    }

    /// Descriptions by full metric name; the first declaration of a name wins.
    private static let descriptions = Locked<[String: Description]>([:])

    /// Buckets for value histograms declared without any (none of ours; libraries' own metrics).
    private static let defaultValueBuckets: [Double] = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]

    /// Records a metric's help text and buckets for when the exporter creates it.
    static func describe(_ name: String, _ description: Description) {
        descriptions.withLock { table in
            if table[name] == nil { table[name] = description }
        }
    }

    let registry: PrometheusCollectorRegistry

    private func descriptor(_ label: String) -> (MetricNameDescriptor, Description?) {
        let description = Self.descriptions.withLock { $0[label] }
        return (MetricNameDescriptor(metricName: label, unitName: "", helpText: description?.help ?? ""), description)
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        registry.makeCounter(descriptor: descriptor(label).0, labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        registry.makeCounter(descriptor: descriptor(label).0, labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        let (name, description) = descriptor(label)
        guard aggregate else { return registry.makeGauge(descriptor: name, labels: dimensions) }
        return registry.makeValueHistogram(
            descriptor: name, labels: dimensions, buckets: description?.valueBuckets ?? Self.defaultValueBuckets)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        registry.makeGauge(descriptor: descriptor(label).0, labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        let (name, description) = descriptor(label)
        return registry.makeDurationHistogram(
            descriptor: name, labels: dimensions, buckets: description?.durationBuckets ?? Telemetry.latencyBuckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }
}
