import MailfleetCore
import MailfleetObservability
import MailfleetProviderFormats
import Metrics

/// `mailfleet_webhook_events_total{provider,type}` and `mailfleet_webhook_rejected_total{provider,reason}`,
/// every series made at start (a bounded set: four providers by eight types or nine reasons),
/// so each is scraped as 0 before its first event.
struct WebhookCounters: Sendable {
    private let events: [String: Counter]
    private let rejections: [String: Counter]

    init() {
        var events: [String: Counter] = [:]
        var rejections: [String: Counter] = [:]
        for provider in WebhookController.providers {
            for kind in WebhookEvent.Kind.allCases {
                events["\(provider.rawValue)/\(kind.rawValue)"] = Telemetry.counter(
                    "webhook_events_total", help: "Verified provider webhook events stored in a message's history (duplicates and uncorrelated events not counted)",
                    labels: [("provider", provider.rawValue), ("type", kind.rawValue)])
            }
            for reason in WebhookRejection.Reason.allCases {
                rejections["\(provider.rawValue)/\(reason.rawValue)"] = Telemetry.counter(
                    "webhook_rejected_total", help: "Provider webhook requests refused, by reason",
                    labels: [("provider", provider.rawValue), ("reason", reason.rawValue)])
            }
        }
        self.events = events
        self.rejections = rejections
    }

    func recorded(_ provider: ProviderKind, _ kind: WebhookEvent.Kind) {
        events["\(provider.rawValue)/\(kind.rawValue)"]?.increment()
    }

    func rejected(_ provider: ProviderKind, _ reason: WebhookRejection.Reason) {
        rejections["\(provider.rawValue)/\(reason.rawValue)"]?.increment()
    }
}
