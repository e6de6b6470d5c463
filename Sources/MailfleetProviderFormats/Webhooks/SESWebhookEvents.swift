import Foundation
import MailfleetCore

/// SES feedback carried by an SNS notification: its `Message` is the SES event as JSON text,
/// either an identity notification (`notificationType`) or an event-publishing record
/// (`eventType`, which also carries the message's tags). One event per recipient.
public enum SESWebhookEvents {
    struct Record: Decodable {
        var notificationType: String?
        var eventType: String?
        var mail: Mail?
        var bounce: BounceRecord?
        var complaint: Complaint?
        var delivery: Delivery?
        var deliveryDelay: DeliveryDelay?
        var open: Open?
        var click: Click?
        var reject: Reject?
    }

    struct Mail: Decodable {
        var messageId: String?
        var timestamp: String?
        var destination: [String]?
        var tags: [String: [String]]?
    }

    struct Recipient: Decodable {
        var emailAddress: String
        var status: String?
        var action: String?
        var diagnosticCode: String?
    }

    struct BounceRecord: Decodable {
        var bounceType: String?
        var bounceSubType: String?
        var bouncedRecipients: [Recipient]
        var timestamp: String?
    }

    struct Complaint: Decodable {
        var complainedRecipients: [Recipient]
        var timestamp: String?
        var complaintFeedbackType: String?
    }

    struct Delivery: Decodable {
        var recipients: [String]
        var timestamp: String?
        var smtpResponse: String?
    }

    struct DeliveryDelay: Decodable {
        var delayType: String?
        var delayedRecipients: [Recipient]
        var timestamp: String?
    }

    struct Open: Decodable {
        var timestamp: String?
    }

    struct Click: Decodable {
        var timestamp: String?
        var link: String?
    }

    struct Reject: Decodable {
        var reason: String?
    }

    /// The events of a verified SNS notification; kinds we do not model (`Send`,
    /// `RenderingFailure`, a plain publish) give none.
    public static func parse(_ envelope: SNSEnvelope) throws(WebhookRejection) -> [WebhookEvent] {
        let record = try WebhookEvent.decode(Record.self, Array(envelope.message.utf8), "an SES event")
        let mail = record.mail
        let ourID = WebhookEvent.messageID(mail?.tags?[SESPayload.messageIDTag]?.first)
        let fallbackTime = WebhookEvent.date(envelope.timestamp) ?? Date(timeIntervalSince1970: 0)
        func event(_ kind: WebhookEvent.Kind, _ recipient: String?, at time: String?, bounce: Bounce? = nil, url: String? = nil, reason: String? = nil) -> WebhookEvent {
            // SNS keeps its MessageId on redelivery; one notification may name several recipients.
            WebhookEvent(
                provider: .ses, providerEventID: "\(envelope.messageID)/\(recipient?.lowercased() ?? "")", kind: kind, messageID: ourID,
                providerMessageID: mail?.messageId, recipient: recipient, occurredAt: WebhookEvent.date(time) ?? fallbackTime, bounce: bounce, url: url,
                reason: reason)
        }
        // An open or a click is one recipient's, but SES does not say whose: the message's only
        // recipient, or nobody when it had several (one event, not one per address).
        let onlyRecipient = mail?.destination?.count == 1 ? mail?.destination?.first : nil
        switch record.notificationType ?? record.eventType {
        case "Bounce":
            guard let b = record.bounce else { throw WebhookRejection(.malformed, "an SES Bounce without a bounce object") }
            let hard = b.bounceType == "Permanent"
            return b.bouncedRecipients.map { r in
                let bounceClass = sesBounceClass(subType: b.bounceSubType, status: r.status, diagnostic: r.diagnosticCode)
                let bounce = Bounce(severity: hard ? .hard : .soft, bounceClass: bounceClass, code: r.status ?? b.bounceSubType, text: r.diagnosticCode ?? b.bounceSubType)
                return event(.bounced, r.emailAddress, at: b.timestamp, bounce: bounce)
            }
        case "Complaint":
            guard let c = record.complaint else { throw WebhookRejection(.malformed, "an SES Complaint without a complaint object") }
            // `not-spam` is a recipient saying the opposite of a complaint.
            if c.complaintFeedbackType == "not-spam" { return [] }
            return c.complainedRecipients.map { event(.complained, $0.emailAddress, at: c.timestamp, reason: c.complaintFeedbackType) }
        case "Delivery":
            guard let d = record.delivery else { throw WebhookRejection(.malformed, "an SES Delivery without a delivery object") }
            return d.recipients.map { event(.delivered, $0, at: d.timestamp) }
        case "DeliveryDelay":
            guard let d = record.deliveryDelay else { throw WebhookRejection(.malformed, "an SES DeliveryDelay without a deliveryDelay object") }
            return d.delayedRecipients.map { event(.deferred, $0.emailAddress, at: d.timestamp, reason: [d.delayType, $0.diagnosticCode].compactMap { $0 }.joined(separator: ": ")) }
        case "Open":
            return [event(.opened, onlyRecipient, at: record.open?.timestamp)]
        case "Click":
            return [event(.clicked, onlyRecipient, at: record.click?.timestamp, url: record.click?.link)]
        case "Reject":
            return (mail?.destination ?? []).map { event(.dropped, $0, at: mail?.timestamp, reason: record.reject?.reason) }
        default:
            return []
        }
    }

    /// SES's bounce sub-type where it is specific, else the recipient's status and diagnostic.
    static func sesBounceClass(subType: String?, status: String?, diagnostic: String?) -> BounceClass {
        switch subType {
        case "NoEmail": return .invalidAddress
        case "MailboxFull": return .mailboxFull
        case "MessageTooLarge", "ContentRejected", "AttachmentRejected": return .content
        // SES's own lists hold addresses that bounced hard or complained before: the address's fault.
        case "Suppressed", "OnAccountSuppressionList": return .invalidAddress
        default: return BounceClass.classify(status: status, text: diagnostic)
        }
    }
}
