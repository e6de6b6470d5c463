import Foundation
import MailfleetCore
import MailfleetHTTPClient

/// SendGrid v3 `POST /v3/mail/send`. One call carries up to 1,000 personalizations: each message
/// of the batch is one personalization with its own recipients, subject, `custom_args` (our
/// message id, so webhooks can be matched) and `substitutions` (its tracking URLs), over one
/// shared body.
public struct SendGridProvider: EmailProvider {
    private let client: HTTPClient
    private let timeout: Duration

    /// Creates the adapter.
    public init(client: HTTPClient, timeout: Duration = .seconds(30)) {
        self.client = client
        self.timeout = timeout
    }

    /// Sends one batch in one call.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        guard let endpoint = batch.account.effectiveEndpoint else {
            return .all(batch, .retryable(reason: "no endpoint", retryAfter: nil), accountFailure: "no endpoint configured", status: 0)
        }
        let body: [UInt8]
        do {
            body = try SendGridPayload.encode(batch)
        } catch {
            return .all(batch, .rejected(reason: "could not encode request: \(error)"), status: 0)
        }
        let request = HTTPRequest(
            method: "POST", url: ProviderCall.base(endpoint) + "/v3/mail/send",
            headers: [
                HTTPHeader("Authorization", "Bearer \(batch.account.secret ?? "")"),
                HTTPHeader("Content-Type", "application/json"),
            ],
            body: body, timeout: timeout)
        let response: HTTPResponse
        switch await ProviderCall.execute(request, client: client, provider: "sendgrid", messages: batch.messages) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        if let failure = ProviderCall.failure(response, provider: "sendgrid", messages: batch.messages) { return failure }
        return .all(batch, .accepted(providerMessageID: response.header("X-Message-Id")), status: response.status)
    }
}

/// The JSON body of a SendGrid mail/send call.
public enum SendGridPayload {
    /// The custom_args key that carries our message id.
    public static let messageIDArg = "mailfleet_message_id"

    /// Encodes a batch whose messages share one `ContentKey`, written straight to bytes (the
    /// body is built for every call of a bulk run; `JSONEncoder` was a sixth of a worker's time).
    public static func encode(_ batch: ProviderBatch) throws -> [UInt8] {
        guard let first = batch.messages.first else { throw SendGridPayloadError.emptyBatch }
        let content = first.message.content
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
