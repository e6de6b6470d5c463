import Foundation
import MailfleetCore

/// SendGrid's Event Webhook body: a JSON array of events, our `custom_args` flattened into each.
public enum SendGridWebhookEvents {
    struct Item: Decodable {
        var event: String?
        var email: String?
        var timestamp: Double?
        var sgEventID: String?
        var sgMessageID: String?
        var reason: String?
        var status: String?
        var response: String?
        var type: String?
        var bounceClassification: String?
        var url: String?
        var messageID: String?

        enum CodingKeys: String, CodingKey {
            case event, email, timestamp, reason, status, response, type, url
            case sgEventID = "sg_event_id", sgMessageID = "sg_message_id", bounceClassification = "bounce_classification"
            case messageID = "mailfleet_message_id"
        }
    }

    /// The events of a body; events we do not model (`processed`, `group_resubscribe`, new
    /// kinds) are left out. SendGrid posts an array; a single event object (as SendGrid's own
    /// SDK tests sign) is read as one event.
    public static func parse(_ body: some Collection<UInt8>) throws(WebhookRejection) -> [WebhookEvent] {
        let bytes = Array(body)
        let items: [Item]
        if bytes.first(where: { !$0.isJSONWhitespace }) == UInt8(ascii: "{") {
            items = [try WebhookEvent.decode(Item.self, bytes, "a SendGrid event")]
        } else {
            items = try WebhookEvent.decode([Item].self, bytes, "a SendGrid event array")
        }
        return items.compactMap(event)
    }

    static func event(_ item: Item) -> WebhookEvent? {
        let kind: WebhookEvent.Kind
        var bounce: Bounce?
        var reason: String?
        var url: String?
        switch item.event {
        case "delivered": kind = .delivered
        case "deferred":
            kind = .deferred
            reason = item.response ?? item.reason
        case "bounce":
            kind = .bounced
            let text = item.reason ?? item.response
            // `blocked` is SendGrid's soft bounce: the receiving server refused for now.
            let severity: Bounce.Severity = item.type == "blocked" ? .soft : .hard
            bounce = Bounce(severity: severity, bounceClass: bounceClass(item.bounceClassification, status: item.status, text: text), code: item.status, text: text)
        case "dropped":
            kind = .dropped
            reason = item.reason
        case "open": kind = .opened
        case "click":
            kind = .clicked
            url = item.url
        case "spamreport": kind = .complained
        case "unsubscribe", "group_unsubscribe": kind = .unsubscribed
        default: return nil
        }
        let occurredAt = Date(timeIntervalSince1970: item.timestamp ?? 0)
        return WebhookEvent(
            provider: .sendgrid,
            providerEventID: item.sgEventID ?? WebhookEvent.derivedID(item.event, item.email, item.timestamp.map { "\($0)" }, item.sgMessageID, item.url),
            kind: kind, messageID: WebhookEvent.messageID(item.messageID),
            // The X-Message-Id the send answered with is the part before the first dot.
            providerMessageID: item.sgMessageID.map { String($0.prefix { $0 != "." }) },
            recipient: item.email, occurredAt: occurredAt, bounce: bounce, url: url, reason: reason)
    }

    /// SendGrid's own `bounce_classification` where it gives one that maps, else the codes and text.
    static func bounceClass(_ classification: String?, status: String?, text: String?) -> BounceClass {
        switch classification?.lowercased() {
        case "invalid address"?: return .invalidAddress
        case "technical"?: return .technical
        case "content"?: return .content
        case "reputation"?, "frequency or volume"?: return .reputation
        default: return BounceClass.classify(status: status, text: text)
        }
    }
}

extension UInt8 {
    fileprivate var isJSONWhitespace: Bool { self == 0x20 || self == 0x09 || self == 0x0A || self == 0x0D }
}
