import Foundation
import MailfleetCore

/// The JSON of Postmark `POST /email/batch` (up to 500 messages) and the reading of its
/// per-message results.
public enum PostmarkPayload {
    /// The metadata key carrying our message id, echoed by Postmark in webhooks.
    public static let messageIDKey = "mailfleet_message_id"

    /// Encodes the messages, each with its own filled-in bodies, in batch order.
    public static func encode(_ messages: [RenderedMessage], messageStream: String?) throws -> [UInt8] {
        let items = messages.map { rendered -> [String: Any] in
            let c = rendered.message.content
            var item: [String: Any] = [
                "From": MIMEBuilder.encodeAddress(c.from),
                "To": c.to.map(MIMEBuilder.encodeAddress).joined(separator: ", "),
                "Subject": c.subject,
            ]
            if !c.cc.isEmpty { item["Cc"] = c.cc.map(MIMEBuilder.encodeAddress).joined(separator: ", ") }
            if !c.bcc.isEmpty { item["Bcc"] = c.bcc.map(MIMEBuilder.encodeAddress).joined(separator: ", ") }
            if let replyTo = c.replyTo { item["ReplyTo"] = MIMEBuilder.encodeAddress(replyTo) }
            if let text = rendered.text { item["TextBody"] = text }
            if let html = rendered.html { item["HtmlBody"] = html }
            let headers = c.headers.sorted { $0.key < $1.key }.filter { !HeaderRules.isReserved($0.key) }
            if !headers.isEmpty { item["Headers"] = headers.map { ["Name": $0.key, "Value": $0.value] } }
            var metadata = c.metadata
            metadata[messageIDKey] = rendered.message.id.lowercasedString
            item["Metadata"] = metadata
            if let tag = c.tags.first { item["Tag"] = tag }
            if !c.attachments.isEmpty {
                item["Attachments"] = c.attachments.map { ["Name": $0.filename, "Content": $0.content, "ContentType": $0.contentType] }
            }
            if let messageStream { item["MessageStream"] = messageStream }
            return item
        }
        return Array(try JSONSerialization.data(withJSONObject: items, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// What one result entry means.
    public enum Result: Sendable, Equatable {
        /// ErrorCode 0: accepted, with Postmark's MessageID.
        case accepted(messageID: String?)
        /// A code that says the account (token, sending permission) is at fault.
        case accountFailure(reason: String)
        /// A transient condition (maintenance, rate limit): try again.
        case retryable(reason: String)
        /// Anything else (invalid address, inactive recipient 406, ...): this message only.
        case rejected(reason: String)
    }

    /// Error codes that mean the account itself cannot send: bad token (10), sending not
    /// allowed (405, 412: out of credits or pending approval).
    static let accountCodes: Set<Int> = [10, 405, 412]
    /// Error codes worth retrying: maintenance (100), rate limited (429).
    static let retryableCodes: Set<Int> = [100, 429]

    /// Reads the results array of a 200 answer, one entry per message in batch order; nil when
    /// the body is not such an array of the right length.
    public static func results(_ body: [UInt8], count: Int) -> [Result]? {
        guard let array = (try? JSONSerialization.jsonObject(with: Data(body))) as? [[String: Any]], array.count == count else { return nil }
        return array.map { entry in
            let code = (entry["ErrorCode"] as? NSNumber)?.intValue ?? -1
            let message = entry["Message"] as? String ?? ""
            let reason = "postmark \(code): \(message)"
            if code == 0 { return .accepted(messageID: entry["MessageID"] as? String) }
            if accountCodes.contains(code) { return .accountFailure(reason: reason) }
            if retryableCodes.contains(code) { return .retryable(reason: reason) }
            return .rejected(reason: reason)
        }
    }
}
