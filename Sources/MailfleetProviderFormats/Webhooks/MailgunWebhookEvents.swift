import Foundation
import MailfleetCore

/// Mailgun's webhook body: `{"signature": {...}, "event-data": {...}}`, one event per request.
public struct MailgunWebhookEvents: Sendable, Decodable {
    /// The signature block (timestamp, token, signature), checked by `MailgunWebhookVerifier`;
    /// nil when the body has none (an unsigned request).
    public var signature: Signature?
    /// The event, when it is one we model.
    public var event: WebhookEvent? { eventData.flatMap(Self.event) }
    /// Mailgun's id of the event (`event-data.id`), whether or not we model its kind.
    public var eventID: String? { eventData?.id.map(WebhookEvent.storable) }

    let eventData: EventData?

    /// Mailgun's signature block.
    public struct Signature: Sendable, Decodable {
        /// Unix seconds, as text.
        public var timestamp: String?
        /// A random token, single use.
        public var token: String?
        /// Hex HMAC-SHA256 of timestamp + token.
        public var signature: String?
    }

    struct EventData: Decodable {
        var id: String?
        var event: String?
        var timestamp: Double?
        var recipient: String?
        var severity: String?
        var reason: String?
        var url: String?
        var deliveryStatus: DeliveryStatus?
        var userVariables: [String: JSONValue]?
        var message: Message?

        enum CodingKeys: String, CodingKey {
            case id, event, timestamp, recipient, severity, reason, url, message
            case deliveryStatus = "delivery-status", userVariables = "user-variables"
        }
    }

    struct DeliveryStatus: Decodable {
        var code: Int?
        var message: String?
        var description: String?
        var enhancedCode: String?

        enum CodingKeys: String, CodingKey {
            case code, message, description
            case enhancedCode = "enhanced-code"
        }
    }

    struct Message: Decodable {
        var headers: [String: JSONValue]?
    }

    enum CodingKeys: String, CodingKey {
        case signature
        case eventData = "event-data"
    }

    /// Reads a body; anything but Mailgun's webhook JSON is malformed.
    public static func parse(_ body: some Collection<UInt8>) throws(WebhookRejection) -> MailgunWebhookEvents {
        try WebhookEvent.decode(MailgunWebhookEvents.self, body, "a Mailgun webhook body")
    }

    static func event(_ data: EventData) -> WebhookEvent? {
        let kind: WebhookEvent.Kind
        var bounce: Bounce?
        var reason: String?
        let status = data.deliveryStatus
        let text = [status?.message, status?.description].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
        let code = status?.enhancedCode ?? status?.code.map(String.init)
        switch data.event {
        case "delivered": kind = .delivered
        case "failed" where data.severity == "temporary":
            kind = .deferred
            reason = text.isEmpty ? data.reason : text
        case "failed":
            // Mailgun did not try: the address is on its own bounce, complaint or unsubscribe list.
            if let r = data.reason, r.hasPrefix("suppress-") {
                kind = .dropped
                reason = r
            } else {
                kind = .bounced
                bounce = Bounce(
                    severity: .hard, bounceClass: BounceClass.classify(status: status?.enhancedCode, smtpCode: status?.code, text: text + " " + (data.reason ?? "")),
                    code: code, text: text.isEmpty ? data.reason : text)
            }
        case "rejected":
            kind = .dropped
            reason = data.reason ?? text
        case "opened": kind = .opened
        case "clicked": kind = .clicked
        case "unsubscribed": kind = .unsubscribed
        case "complained": kind = .complained
        default: return nil
        }
        var ourID: UUID?
        if case .string(let text)? = data.userVariables?[MailgunPayload.messageIDVariable] { ourID = WebhookEvent.messageID(text) }
        var providerMessageID: String?
        if case .string(let header)? = data.message?.headers?["message-id"] {
            // The send's answer names the message `<id>`; the event names it without brackets.
            providerMessageID = header.hasPrefix("<") ? header : "<\(header)>"
        }
        return WebhookEvent(
            provider: .mailgun,
            providerEventID: data.id ?? WebhookEvent.derivedID(data.event, data.recipient, data.timestamp.map { "\($0)" }, providerMessageID, data.url),
            kind: kind, messageID: ourID, providerMessageID: providerMessageID, recipient: data.recipient,
            occurredAt: Date(timeIntervalSince1970: data.timestamp ?? 0), bounce: bounce, url: kind == .clicked ? data.url : nil, reason: reason)
    }
}
