import Foundation
import MailfleetCore

/// The JSON body of a SendGrid mail/send call.
public enum SendGridPayload {
    /// The custom_args key that carries our message id.
    public static let messageIDArg = "mailfleet_message_id"

    /// Encodes a batch whose messages share one `ContentKey`, written straight to bytes (the
    /// body is built for every call of a bulk run; `JSONEncoder` was a sixth of a worker's time).
    public static func encode(_ batch: ProviderBatch) throws -> [UInt8] {
        guard let first = batch.messages.first else { throw SendGridPayloadError.emptyBatch }
        let content = first.message.content
        // JSONBytes, not Codable: profiles put this body on the worker's hot path (BENCHMARKS.md).
        var json = JSONBytes(capacity: 1024 + (first.htmlTemplate?.utf8.count ?? 0) + (first.textTemplate?.utf8.count ?? 0) + batch.messages.count * 200)
        json.beginObject()
        json.key("from")
        content.from.write(to: &json)
        if let replyTo = content.replyTo {
            json.key("reply_to")
            replyTo.write(to: &json)
        }
        json.key("subject")
        json.value(content.subject)
        json.key("content")
        json.beginArray()
        // SendGrid requires text/plain first.
        for (type, value) in [("text/plain", first.textTemplate), ("text/html", first.htmlTemplate)] {
            guard let value else { continue }
            json.beginObject()
            json.key("type")
            json.value(type)
            json.key("value")
            json.value(value)
            json.endObject()
        }
        json.endArray()
        if !content.headers.isEmpty {
            json.key("headers")
            json.value(content.headers)
        }
        if !content.attachments.isEmpty {
            json.key("attachments")
            json.beginArray()
            for attachment in content.attachments {
                json.beginObject()
                json.key("content")
                json.value(attachment.content)
                json.key("filename")
                json.value(attachment.filename)
                json.key("type")
                json.value(attachment.contentType)
                json.key("disposition")
                json.value("attachment")
                json.endObject()
            }
            json.endArray()
        }
        json.key("personalizations")
        json.beginArray()
        for rendered in batch.messages {
            let c = rendered.message.content
            json.beginObject()
            for (name, list) in [("to", c.to), ("cc", c.cc), ("bcc", c.bcc)] where name == "to" || !list.isEmpty {
                json.key(name)
                json.beginArray()
                for address in list { address.write(to: &json) }
                json.endArray()
            }
            json.key("subject")
            json.value(c.subject)
            var args = c.metadata
            args[messageIDArg] = rendered.message.id.lowercasedString
            json.key("custom_args")
            json.value(args)
            let own = rendered.ownHeaders
            if !own.isEmpty {
                // Personalization headers: one List-Unsubscribe per recipient on a shared body.
                json.key("headers")
                json.value(Dictionary(own.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first }))
            }
            if !rendered.substitutions.isEmpty {
                json.key("substitutions")
                json.value(rendered.substitutions)
            }
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.bytes
    }
}

/// Why a SendGrid body could not be built.
public enum SendGridPayloadError: Error {
    /// A batch needs at least one message.
    case emptyBatch
}
