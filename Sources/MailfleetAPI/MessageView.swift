import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// The answer of `GET /v1/messages/{id}`: the listing's fields (`MessagePage.Item`), the
/// provider's message id and the event history, in one flat object.
struct MessageView: ResponseEncodable, Equatable {
    /// One event of the history.
    struct Event: Encodable, Equatable {
        var type: String
        var at: String
        /// The event's stored detail (a JSON object).
        var detail: JSONValue
    }

    var summary: MessagePage.Item
    var providerMessageID: String?
    var events: [Event]

    enum CodingKeys: String, CodingKey {
        case events
        case providerMessageID = "provider_message_id"
    }

    /// The view of a stored message.
    init(_ record: MessageRecord) {
        summary = MessagePage.Item(record)
        providerMessageID = record.providerMessageID
        // Details are JSON the store wrote; one that does not parse is shown empty, not fatal.
        events = record.events.map { Event(type: $0.type, at: ISO8601.format($0.occurredAt), detail: (try? JSONReader.parse($0.detail)) ?? .object([:])) }
    }

    /// The summary's keys and these two in the same object.
    func encode(to encoder: any Encoder) throws {
        try summary.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(providerMessageID, forKey: .providerMessageID)
        try container.encode(events, forKey: .events)
    }
}

/// A page of `GET /v1/messages`, newest first; `next` (absent on the last page) is the `after`
/// of the next.
struct MessagePage: ResponseEncodable, Equatable {
    /// A message in a listing: its state without the event history (`GET /v1/messages/{id}` has it).
    struct Item: Encodable, Equatable {
        var id: String
        var status: String
        var priority: String
        var attempts: Int
        var from: String
        var to: [String]
        var subject: String
        var createdAt: String
        var updatedAt: String
        var sendAt: String?
        var sentAt: String?
        var lastError: String?
        var batchID: String?

        enum CodingKeys: String, CodingKey {
            case id, status, priority, attempts, from, to, subject
            case createdAt = "created_at", updatedAt = "updated_at", sendAt = "send_at", sentAt = "sent_at", lastError = "last_error"
            case batchID = "batch_id"
        }

        /// The listing's view of a stored message.
        init(_ record: MessageRecord) {
            let message = record.message
            id = message.id.lowercasedString
            status = message.status.rawValue
            priority = message.priority.rawValue
            attempts = message.attempts
            from = message.content.from.description
            to = message.content.to.map(\.description)
            subject = message.content.subject
            createdAt = ISO8601.format(message.createdAt)
            updatedAt = ISO8601.format(record.updatedAt)
            sendAt = message.sendAt.map(ISO8601.format)
            sentAt = record.sentAt.map(ISO8601.format)
            lastError = record.lastError
            batchID = message.batchID
        }
    }

    var messages: [Item]
    var next: String?
}

/// The answer of `POST /v1/messages/{id}/retry`: the message, queued again.
struct QueuedMessage: ResponseEncodable, Equatable {
    var id: String
    var status: String
}
