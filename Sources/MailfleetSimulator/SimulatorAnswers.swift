import Foundation

/// The JSON bodies the simulator answers with, shaped like each provider's own.
enum SimulatorAnswer {
    /// SendGrid's error list. `field` and `help` are written even when null, as SendGrid does.
    struct SendGridErrors: Encodable {
        struct Item: Encodable {
            var message: String
            var field: String?
            var help: String?

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(message, forKey: .message)
                try container.encode(field, forKey: .field)
                try container.encode(help, forKey: .help)
            }

            enum CodingKeys: String, CodingKey { case message, field, help }
        }

        var errors: [Item]

        init(_ message: String, field: String? = nil) {
            errors = [Item(message: message, field: field, help: nil)]
        }
    }

    /// Mailgun's and SES's error body, and the shape of the simulator's own fault answers on
    /// those APIs.
    struct Message: Encodable {
        var message: String
    }

    /// Mailgun's answer to a send.
    struct MailgunQueued: Encodable {
        var id: String
        var message = "Queued. Thank you."
    }

    /// Postmark's error body, and one result of a batch (with `MessageID` when it was sent).
    struct Postmark: Encodable {
        var errorCode: Int
        var message: String
        var messageID: String?
        var to: String?

        enum CodingKeys: String, CodingKey {
            case errorCode = "ErrorCode", message = "Message", messageID = "MessageID", to = "To"
        }
    }

    /// SES `SendEmail`'s answer.
    struct SESSent: Encodable {
        var messageId: String
        enum CodingKeys: String, CodingKey { case messageId = "MessageId" }
    }

    /// SES `SendBulkEmail`'s answer.
    struct SESBulk: Encodable {
        struct Entry: Encodable {
            var status: String
            var error: String?
            var messageId: String?
            enum CodingKeys: String, CodingKey { case status = "Status", error = "Error", messageId = "MessageId" }
        }

        var bulkEmailEntryResults: [Entry]
        enum CodingKeys: String, CodingKey { case bulkEmailEntryResults = "BulkEmailEntryResults" }
    }

    /// `GET /_stats`.
    struct Stats: Encodable {
        var calls: [String: Int]
        var acceptedCalls: Int
        var rejectedCalls: Int
        var recipients: Int
        var uniqueMessages: Int
        var duplicateDeliveries: Int
        var inflight: Int
        var largestBatch: Int
        var lastCallAt: Double
        var lostAnswers: Int
        var lostAnswerMessages: Int

        enum CodingKeys: String, CodingKey {
            case calls, acceptedCalls = "accepted_calls", rejectedCalls = "rejected_calls", recipients
            case uniqueMessages = "unique_messages", duplicateDeliveries = "duplicate_deliveries", inflight
            case largestBatch = "largest_batch"
            case lastCallAt = "last_call_at", lostAnswers = "lost_answers", lostAnswerMessages = "lost_answer_messages"
        }
    }

    /// `GET /_messages/{id}`.
    struct Deliveries: Encodable {
        var id: String
        var deliveries: Int
    }

    /// `POST /_reset`.
    struct Reset: Encodable {
        var reset = true
    }

    /// A `POST /_control` body that could not be read.
    struct ControlError: Encodable {
        struct Detail: Encodable {
            var code = "invalid_control"
            var message: String
        }

        var error: Detail
    }
}
