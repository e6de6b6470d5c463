import Foundation
import MailfleetCore
import MailfleetObservability
import MailfleetProviderFormats
import Metrics

/// `mailfleet_webhook_events_total{provider,type}` and `mailfleet_webhook_rejected_total{provider,reason}`,
/// every series made at start (a bounded set: four providers by eight types or nine reasons),
/// so each is scraped as 0 before its first event.
///
/// Also the per-tenant families `mailfleet_tenant_messages_{delivered,hard_bounced,complained}_total`,
/// beside the worker's `mailfleet_tenant_messages_sent_total`, so each tenant's delivery, bounce and
/// complaint rates over any window are one PromQL division (series bounded by the tenants that exist).
struct WebhookCounters: Sendable {
    private let events: [String: Counter]
    private let rejections: [String: Counter]
    private let delivered = TenantCounter("tenant_messages_delivered_total", help: "Delivery reports stored, per tenant")
    private let hardBounced = TenantCounter("tenant_messages_hard_bounced_total", help: "Hard bounce reports stored, per tenant")
    private let complained = TenantCounter("tenant_messages_complained_total", help: "Complaint reports stored, per tenant")

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

    /// Counts a request's stored reports for their tenant: one lock per family per request.
    func recorded(tenant: UUID, stored: [WebhookEvent]) {
        var deliveries = 0, hardBounces = 0, complaints = 0
        for event in stored {
            switch event.kind {
            case .delivered: deliveries += 1
            case .bounced where event.bounce?.severity == .hard: hardBounces += 1
            case .complained: complaints += 1
            default: break
            }
        }
        delivered.increment([tenant: deliveries])
        hardBounced.increment([tenant: hardBounces])
        complained.increment([tenant: complaints])
    }

    func rejected(_ provider: ProviderKind, _ reason: WebhookRejection.Reason) {
        rejections["\(provider.rawValue)/\(reason.rawValue)"]?.increment()
    }
}
