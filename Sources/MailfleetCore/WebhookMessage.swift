import Foundation
import Crypto

/// One event on its way to one endpoint (a delivery), and the JSON it is posted as:
/// `{"id","type","timestamp","data":{"event_id","message_id","tenant_id","recipient","occurred_at","details"}}`.
/// A batch is a JSON array of these.
public struct WebhookMessage: Sendable, Equatable {
    /// The delivery's id; `webhook-id` is `msg_<id>` and stays the same on every retry.
    public var deliveryID: Int
    /// The event's id (`events.id`).
    public var eventID: Int
    /// The tenant.
    public var tenantID: UUID
    /// The message the event belongs to.
    public var messageID: UUID
    /// The stored event type (`bounced`).
    public var type: String
    /// The event's details as stored (a JSON object).
    public var detailJSON: String
    /// When the event happened.
    public var occurredAt: Date

    /// Creates one.
    public init(deliveryID: Int, eventID: Int, tenantID: UUID, messageID: UUID, type: String, detailJSON: String, occurredAt: Date) {
        self.deliveryID = deliveryID
        self.eventID = eventID
        self.tenantID = tenantID
        self.messageID = messageID
        self.type = type
        self.detailJSON = detailJSON
        self.occurredAt = occurredAt
    }

    /// `msg_<delivery id>`, the `webhook-id` of a request carrying this delivery alone.
    public var webhookID: String { "msg_\(deliveryID)" }

    /// The `webhook-id` of a request carrying `messages`: the one's own id, or for a batch
    /// `msg_b<24 hex digits of SHA-256 over its sorted delivery ids>`, so a retry carrying the
    /// same deliveries has the same id and a batch grouped differently never reuses one (a
    /// receiver that deduplicates on the id would drop its new deliveries). Each item of a
    /// batch also carries its own id.
    public static func webhookID(of messages: [WebhookMessage]) -> String {
        guard messages.count != 1 else { return messages[0].webhookID }
        let ids = messages.map(\.deliveryID).sorted().map(String.init).joined(separator: ",")
        return "msg_b" + Hex.encode(Array(SHA256.hash(data: Data(ids.utf8))).prefix(12))
    }

    /// The request body: one object, or (`batch`) an array of them.
    public static func body(_ messages: [WebhookMessage], batch: Bool) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        let payloads = messages.map(Payload.init)
        if batch { return Array(try encoder.encode(payloads)) }
        return Array(try encoder.encode(payloads[0]))
    }

    /// The JSON shape of one event.
    struct Payload: Encodable {
        var id: String
        var type: String
        var timestamp: String
        var data: DataPart

        struct DataPart: Encodable {
            var eventID: String
            var messageID: String
            var tenantID: String
            var recipient: String?
            var occurredAt: String
            var details: JSONValue

            enum CodingKeys: String, CodingKey {
                case eventID = "event_id", messageID = "message_id", tenantID = "tenant_id", recipient
                case occurredAt = "occurred_at", details
            }

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(eventID, forKey: .eventID)
                try c.encode(messageID, forKey: .messageID)
                try c.encode(tenantID, forKey: .tenantID)
                // Always present, null when the event names no single recipient.
                try c.encode(recipient, forKey: .recipient)
                try c.encode(occurredAt, forKey: .occurredAt)
                try c.encode(details, forKey: .details)
            }
        }

        init(_ message: WebhookMessage) {
            let details = (try? JSONReader.parse(message.detailJSON)) ?? .object([:])
            var recipient: String?
            if case .object(let fields) = details, case .string(let text)? = fields["recipient"] { recipient = text }
            let time = ISO8601.format(message.occurredAt)
            id = message.webhookID
            type = EventType.webhookType(of: message.type)
            timestamp = time
            data = DataPart(
                eventID: String(message.eventID), messageID: UUIDText.lowercase(message.messageID), tenantID: UUIDText.lowercase(message.tenantID),
                recipient: recipient, occurredAt: time, details: details)
        }
    }
}
