import Foundation
import MailfleetCore

/// Postmark's webhook body: one record per request, named by `RecordType`.
public enum PostmarkWebhookEvents {
    struct Record: Decodable {
        var recordType: String?
        var id: Int64?
        var type: String?
        var messageID: String?
        var recipient: String?
        var email: String?
        var details: String?
        var description: String?
        var metadata: [String: String]?
        var bouncedAt: String?
        var deliveredAt: String?
        var receivedAt: String?
        var changedAt: String?
        var originalLink: String?
        var suppressSending: Bool?
        var suppressionReason: String?

        enum CodingKeys: String, CodingKey {
            case recordType = "RecordType", id = "ID", type = "Type", messageID = "MessageID", recipient = "Recipient", email = "Email"
            case details = "Details", description = "Description", metadata = "Metadata", bouncedAt = "BouncedAt", deliveredAt = "DeliveredAt"
            case receivedAt = "ReceivedAt", changedAt = "ChangedAt", originalLink = "OriginalLink", suppressSending = "SuppressSending"
            case suppressionReason = "SuppressionReason"
        }
    }

    /// The event of a body, or none for records we do not model.
    public static func parse(_ body: some Collection<UInt8>) throws(WebhookRejection) -> [WebhookEvent] {
        let r = try WebhookEvent.decode(Record.self, body, "a Postmark webhook record")
        let recipient = r.recipient ?? r.email
        var bounce: Bounce?
        var url: String?
        var reason: String?
        let kind: WebhookEvent.Kind
        let time: String?
        switch r.recordType {
        case "Bounce":
            guard let mapped = bounceKind(r) else { return [] }
            kind = mapped.kind
            bounce = mapped.bounce
            reason = mapped.kind == .bounced ? nil : r.description
            time = r.bouncedAt
        case "SpamComplaint":
            kind = .complained
            reason = r.type
            time = r.bouncedAt
        case "Delivery":
            kind = .delivered
            time = r.deliveredAt
        case "Open":
            kind = .opened
            time = r.receivedAt
        case "Click":
            kind = .clicked
            url = r.originalLink
            time = r.receivedAt
        case "SubscriptionChange":
            // Postmark reports its own suppressions after a bounce or complaint too; those arrive
            // as their own Bounce or SpamComplaint records. Only a recipient's own unsubscribe is new.
            guard r.suppressSending == true, r.suppressionReason == "ManualSuppression" else { return [] }
            kind = .unsubscribed
            time = r.changedAt
        default:
            return []
        }
        let eventID = r.id.map { "\(r.recordType ?? "")/\($0)" }
            ?? WebhookEvent.derivedID(r.recordType, r.messageID, recipient?.lowercased(), time, url)
        return [
            WebhookEvent(
                provider: .postmark, providerEventID: eventID, kind: kind, messageID: WebhookEvent.messageID(r.metadata?[PostmarkPayload.messageIDKey]),
                providerMessageID: r.messageID, recipient: recipient, occurredAt: WebhookEvent.date(time) ?? Date(timeIntervalSince1970: 0), bounce: bounce,
                url: url, reason: reason)
        ]
    }

    /// Postmark's bounce `Type`s: which are bounces (hard or soft, with a class), which are
    /// other things (a spam complaint, an unsubscribe request), and which are noise (auto-replies).
    static func bounceKind(_ r: Record) -> (kind: WebhookEvent.Kind, bounce: Bounce?)? {
        let text = r.details ?? r.description
        func bounced(_ severity: Bounce.Severity, _ bounceClass: BounceClass) -> (WebhookEvent.Kind, Bounce?) {
            (.bounced, Bounce(severity: severity, bounceClass: bounceClass, code: r.type, text: text))
        }
        switch r.type {
        case "HardBounce", "BadEmailAddress": return bounced(.hard, .invalidAddress)
        case "Blocked": return bounced(.hard, .reputation)
        case "DMARCPolicy": return bounced(.hard, .policy)
        case "ManuallyDeactivated": return bounced(.hard, .policy)
        case "VirusNotification", "ContentRelated": return bounced(.soft, .content)
        case "Transient", "DnsError", "SMTPApiError": return bounced(.soft, .technical)
        case "SoftBounce": return bounced(.soft, BounceClass.classify(text: text))
        case "SpamNotification", "Unknown", "Undeliverable": return bounced(.soft, BounceClass.classify(text: text))
        case "SpamComplaint": return (.complained, nil)
        case "Unsubscribe": return (.unsubscribed, nil)
        default: return nil  // AutoResponder, AddressChange, Subscribe, ChallengeVerification, OpenRelayTest ...
        }
    }
}
