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

    /// `GET /_stats`. `unique_messages` and `duplicate_deliveries` are null unless arrivals are
    /// recorded (telling a duplicate needs every id seen); `accepted_messages` is always counted.
    struct Stats: Encodable {
        var calls: [String: Int]
        var acceptedCalls: Int
        var rejectedCalls: Int
        var recipients: Int
        var acceptedMessages: Int
        var uniqueMessages: Int?
        var duplicateDeliveries: Int?
        var inflight: Int
        var largestBatch: Int
        var lastCallAt: Double
        var lostAnswers: Int
        var lostAnswerMessages: Int
        var record: SimulatorRecording

        enum CodingKeys: String, CodingKey {
            case calls, acceptedCalls = "accepted_calls", rejectedCalls = "rejected_calls", recipients
            case acceptedMessages = "accepted_messages"
            case uniqueMessages = "unique_messages", duplicateDeliveries = "duplicate_deliveries", inflight
            case largestBatch = "largest_batch"
            case lastCallAt = "last_call_at", lostAnswers = "lost_answers", lostAnswerMessages = "lost_answer_messages"
            case record
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(calls, forKey: .calls)
            try c.encode(acceptedCalls, forKey: .acceptedCalls)
            try c.encode(rejectedCalls, forKey: .rejectedCalls)
            try c.encode(recipients, forKey: .recipients)
            try c.encode(acceptedMessages, forKey: .acceptedMessages)
            // Written as null, not left out, so a reader sees they exist and are not kept.
            try c.encode(uniqueMessages, forKey: .uniqueMessages)
            try c.encode(duplicateDeliveries, forKey: .duplicateDeliveries)
            try c.encode(inflight, forKey: .inflight)
            try c.encode(largestBatch, forKey: .largestBatch)
            try c.encode(lastCallAt, forKey: .lastCallAt)
            try c.encode(lostAnswers, forKey: .lostAnswers)
            try c.encode(lostAnswerMessages, forKey: .lostAnswerMessages)
            try c.encode(record, forKey: .record)
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

    /// The simulator's own errors: a `POST /_control` body that could not be read
    /// (`invalid_control`), a read of records that are not kept (`recording_off`).
    struct Failure: Encodable {
        struct Detail: Encodable {
            var code: String
            var message: String
        }

        var error: Detail

        init(code: String, message: String) {
            error = Detail(code: code, message: message)
        }
    }

    /// The `record` key of a `POST /_control` body.
    struct RecordSwitch: Decodable {
        var record: SimulatorRecording?
    }

    /// `POST /_control`'s answer: the faults now in force and the recording.
    struct Control: Encodable {
        var faults: FaultSettings
        var record: SimulatorRecording

        enum CodingKeys: String, CodingKey { case record }

        func encode(to encoder: any Encoder) throws {
            try faults.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(record, forKey: .record)
        }
    }
}
