import Foundation
import MailfleetCore

/// The JSON of Postmark `POST /email/batch` (up to 500 messages) and the reading of its
/// per-message results.
public enum PostmarkPayload {
    /// The metadata key carrying our message id, echoed by Postmark in webhooks.
    public static let messageIDKey = "mailfleet_message_id"

    /// Encodes the messages, each with its own filled-in bodies, in batch order.
    public static func encode(_ messages: [RenderedMessage], messageStream: String?) throws -> [UInt8] {
        try PayloadJSON.encode(messages.map { Message($0, messageStream: messageStream) })
    }

    /// Error codes that mean the account itself cannot send: bad token (10), sending not
    /// allowed (405, 412: out of credits or pending approval).
    static let accountCodes: Set<Int> = [10, 405, 412]
    /// Error codes worth retrying: maintenance (100), rate limited (429).
    static let retryableCodes: Set<Int> = [100, 429]

    /// Reads the results array of a 200 answer, one entry per message in batch order; nil when
    /// the body is not such an array of the right length.
    public static func results(_ body: [UInt8], count: Int) -> [MessageResult]? {
        guard let entries = PayloadJSON.decode([ResultEntry].self, from: body), entries.count == count else { return nil }
        return entries.map { entry in
            let reason = "postmark \(entry.errorCode): \(entry.message)"
            if entry.errorCode == 0 { return .accepted(messageID: entry.messageID) }
            if accountCodes.contains(entry.errorCode) { return .accountFailure(reason: reason) }
            if retryableCodes.contains(entry.errorCode) { return .retryable(reason: reason) }
            return .rejected(reason: reason)
        }
    }

    /// One message of the batch. Absent optionals are left out of the JSON.
    struct Message: Encodable {
        var from: String
        var to: String
        var cc: String?
        var bcc: String?
        var replyTo: String?
        var subject: String
        var textBody: String?
        var htmlBody: String?
        var headers: [Header]?
        var metadata: [String: String]
        var tag: String?
        var attachments: [Attachment]?
        var messageStream: String?

        enum CodingKeys: String, CodingKey {
            case from = "From", to = "To", cc = "Cc", bcc = "Bcc", replyTo = "ReplyTo", subject = "Subject"
            case textBody = "TextBody", htmlBody = "HtmlBody", headers = "Headers", metadata = "Metadata", tag = "Tag"
            case attachments = "Attachments", messageStream = "MessageStream"
        }

        init(_ rendered: RenderedMessage, messageStream: String?) {
            let c = rendered.message.content
            func list(_ addresses: [EmailAddress]) -> String? {
                addresses.isEmpty ? nil : addresses.map(MIMEBuilder.encodeAddress).joined(separator: ", ")
            }
            from = MIMEBuilder.encodeAddress(c.from)
            to = c.to.map(MIMEBuilder.encodeAddress).joined(separator: ", ")
            cc = list(c.cc)
            bcc = list(c.bcc)
            replyTo = c.replyTo.map(MIMEBuilder.encodeAddress)
            subject = c.subject
            textBody = rendered.text
            htmlBody = rendered.html
            let own = rendered.ownHeaders.map { Header(name: $0.name, value: $0.value) }
                + c.headers.sorted { $0.key < $1.key }.filter { !HeaderRules.isReserved($0.key) }.map { Header(name: $0.key, value: $0.value) }
            headers = own.isEmpty ? nil : own
            metadata = c.metadata
            metadata[messageIDKey] = rendered.message.id.lowercasedString
            tag = c.tags.first
            attachments = c.attachments.isEmpty
                ? nil : c.attachments.map { Attachment(name: $0.filename, content: $0.content, contentType: $0.contentType) }
            self.messageStream = messageStream
        }
    }

    /// A custom header of a message.
    struct Header: Encodable {
        var name: String
        var value: String

        enum CodingKeys: String, CodingKey {
            case name = "Name", value = "Value"
        }
    }

    /// An attachment, its content in base64.
    struct Attachment: Encodable {
        var name: String
        var content: String
        var contentType: String

        enum CodingKeys: String, CodingKey {
            case name = "Name", content = "Content", contentType = "ContentType"
        }
    }

    /// One entry of the results array. Fields of an unexpected type read as absent, as a
    /// missing `ErrorCode` does (-1, so the message is rejected rather than guessed accepted).
    struct ResultEntry: Decodable {
        var errorCode: Int
        var message: String
        var messageID: String?

        enum CodingKeys: String, CodingKey {
            case errorCode = "ErrorCode", message = "Message", messageID = "MessageID"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            errorCode = (try? container.decodeIfPresent(Int.self, forKey: .errorCode)) ?? -1
            message = (try? container.decodeIfPresent(String.self, forKey: .message)) ?? ""
            messageID = try? container.decodeIfPresent(String.self, forKey: .messageID)
        }
    }
}
