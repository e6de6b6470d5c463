import Foundation
import MailfleetCore
import MailfleetObservability
import Metrics

/// The dispatcher's metrics (docs/METRICS.md).
struct WebhookDispatchMetrics: Sendable {
    private let deliveries: [String: Counter]
    private let attempts: [String: Counter]
    private let latency: Metrics.Timer
    private let pending: Meter
    private let held: Meter
    private let disabledEndpoints: Meter

    init() {
        var deliveries: [String: Counter] = [:]
        for outcome in ["delivered", "retried", "failed"] {
            deliveries[outcome] = Telemetry.counter(
                "webhook_deliveries_total", help: "Webhook deliveries by what their attempt came to", labels: [("outcome", outcome)])
        }
        self.deliveries = deliveries
        var attempts: [String: Counter] = [:]
        for outcome in ["delivered", "retrying", "failed"] {
            attempts[outcome] = Telemetry.counter("webhook_attempts_total", help: "Requests made to webhook endpoints by outcome", labels: [("outcome", outcome)])
        }
        self.attempts = attempts
        latency = Telemetry.durationHistogram("webhook_attempt_duration_seconds", help: "Time of one webhook request, answer or timeout")
        pending = Telemetry.gauge("webhook_deliveries_pending", help: "Webhook deliveries waiting to be made", labels: [("state", "pending")])
        held = Telemetry.gauge("webhook_deliveries_pending", help: "Webhook deliveries waiting to be made", labels: [("state", "held")])
        disabledEndpoints = Telemetry.gauge("webhook_endpoints_disabled", help: "Webhook endpoints disabled after failing throughout their retry schedule")
    }

    func attempted(_ record: WebhookAttemptRecord, latency elapsed: Duration) {
        latency.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        attempts[record.outcome]?.increment()
        for delivery in record.deliveries {
            switch delivery.state {
            case .delivered: deliveries["delivered"]?.increment()
            case .failed: deliveries["failed"]?.increment()
            case .pending, .held: deliveries["retried"]?.increment()
            }
        }
    }

    func publish(pending: Int, held: Int, disabledEndpoints: Int) {
        self.pending.set(pending)
        self.held.set(held)
        self.disabledEndpoints.set(disabledEndpoints)
    }
}
