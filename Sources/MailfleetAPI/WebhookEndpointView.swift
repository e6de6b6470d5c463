import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// A webhook endpoint as the API answers it; `secret` only from create and rotate.
struct WebhookEndpointView: ResponseEncodable, Equatable {
    var id: String
    var url: String
    var eventTypes: [String]
    var enabled: Bool
    var batch: Bool
    var disabledReason: String?
    var disabledAt: String?
    var previousSecretExpiresAt: String?
    var createdAt: String
    var updatedAt: String
    var secret: String?

    enum CodingKeys: String, CodingKey {
        case id, url, enabled, batch, secret
        case eventTypes = "event_types", disabledReason = "disabled_reason", disabledAt = "disabled_at"
        case previousSecretExpiresAt = "previous_secret_expires_at", createdAt = "created_at", updatedAt = "updated_at"
    }

    init(_ endpoint: WebhookEndpoint, showingSecret: Bool = false) {
        id = endpoint.id.lowercasedString
        url = endpoint.url
        eventTypes = endpoint.eventTypes
        enabled = endpoint.enabled
        batch = endpoint.batch
        disabledReason = endpoint.disabledReason
        disabledAt = endpoint.disabledAt.map(ISO8601.format)
        previousSecretExpiresAt = endpoint.previousSecretExpiresAt.flatMap { $0 > Date() ? ISO8601.format($0) : nil }
        createdAt = ISO8601.format(endpoint.createdAt)
        updatedAt = ISO8601.format(endpoint.updatedAt)
        secret = showingSecret ? endpoint.secret.text : nil
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(url, forKey: .url)
        try c.encode(eventTypes, forKey: .eventTypes)
        try c.encode(enabled, forKey: .enabled)
        try c.encode(batch, forKey: .batch)
        // Always present (null while enabled), so clients can rely on the keys.
        try c.encode(disabledReason, forKey: .disabledReason)
        try c.encode(disabledAt, forKey: .disabledAt)
        try c.encode(previousSecretExpiresAt, forKey: .previousSecretExpiresAt)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(updatedAt, forKey: .updatedAt)
        try c.encodeIfPresent(secret, forKey: .secret)
    }
}

/// A page of `GET /v1/webhook-endpoints`; `next` (absent on the last page) is the `after` of the next.
struct WebhookEndpointPage: ResponseEncodable, Equatable {
    var endpoints: [WebhookEndpointView]
    var next: String?
}

/// One attempt as the API answers it.
struct WebhookAttemptView: ResponseEncodable, Equatable {
    var id: String
    var webhookID: String
    var deliveryIDs: [String]
    var status: Int?
    var latencyMs: Int
    var error: String?
    var outcome: String
    var attemptedAt: String

    enum CodingKeys: String, CodingKey {
        case id, status, error, outcome
        case webhookID = "webhook_id", deliveryIDs = "delivery_ids", latencyMs = "latency_ms", attemptedAt = "attempted_at"
    }

    init(_ attempt: WebhookAttempt) {
        id = String(attempt.id)
        webhookID = attempt.webhookID
        deliveryIDs = attempt.deliveryIDs.map(String.init)
        status = attempt.status
        latencyMs = attempt.latencyMs
        error = attempt.error
        outcome = attempt.outcome
        attemptedAt = ISO8601.format(attempt.attemptedAt)
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(webhookID, forKey: .webhookID)
        try c.encode(deliveryIDs, forKey: .deliveryIDs)
        try c.encode(status, forKey: .status)
        try c.encode(latencyMs, forKey: .latencyMs)
        try c.encode(error, forKey: .error)
        try c.encode(outcome, forKey: .outcome)
        try c.encode(attemptedAt, forKey: .attemptedAt)
    }
}

/// A page of an endpoint's attempts, newest first; `next` is the `before` of the next page.
struct WebhookAttemptPage: ResponseEncodable, Equatable {
    var attempts: [WebhookAttemptView]
    var next: String?
}
