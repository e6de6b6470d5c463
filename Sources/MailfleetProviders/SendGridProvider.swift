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

    struct Body: Encodable {
        var from: Address
        var replyTo: Address?
        var subject: String
        var content: [Content]
        var headers: [String: String]?
        var attachments: [Attachment]?
        var personalizations: [Personalization]

        enum CodingKeys: String, CodingKey {
            case from, subject, content, headers, attachments, personalizations
            case replyTo = "reply_to"
        }
    }

    struct Attachment: Encodable {
        var content: String
        var filename: String
        var type: String
        var disposition = "attachment"
    }

    struct Address: Encodable {
        var email: String
        var name: String?
        init(_ a: EmailAddress) {
            email = a.email
            name = a.name
        }
    }

    struct Content: Encodable {
        var type: String
        var value: String
    }

    struct Personalization: Encodable {
        var to: [Address]
        var cc: [Address]?
        var bcc: [Address]?
        var subject: String
        var customArgs: [String: String]
        var substitutions: [String: String]?

        enum CodingKeys: String, CodingKey {
            case to, cc, bcc, subject, substitutions
            case customArgs = "custom_args"
        }
    }

    /// Encodes a batch whose messages share one `ContentKey`.
    public static func encode(_ batch: ProviderBatch) throws -> [UInt8] {
        guard let first = batch.messages.first else { throw SendGridPayloadError.emptyBatch }
        let content = first.message.content
        var parts: [Content] = []
        // SendGrid requires text/plain first.
        if let text = first.textTemplate { parts.append(Content(type: "text/plain", value: text)) }
        if let html = first.htmlTemplate { parts.append(Content(type: "text/html", value: html)) }
        let personalizations = batch.messages.map { rendered -> Personalization in
            let c = rendered.message.content
            var args = c.metadata
            args[messageIDArg] = rendered.message.id.uuidString.lowercased()
            return Personalization(
                to: c.to.map(Address.init), cc: c.cc.isEmpty ? nil : c.cc.map(Address.init),
                bcc: c.bcc.isEmpty ? nil : c.bcc.map(Address.init), subject: c.subject, customArgs: args,
                substitutions: rendered.substitutions.isEmpty ? nil : rendered.substitutions)
        }
        let body = Body(
            from: Address(content.from), replyTo: content.replyTo.map(Address.init), subject: content.subject, content: parts,
            headers: content.headers.isEmpty ? nil : content.headers,
            attachments: content.attachments.isEmpty ? nil : content.attachments.map { Attachment(content: $0.content, filename: $0.filename, type: $0.contentType) },
            personalizations: personalizations)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return Array(try encoder.encode(body))
    }
}

/// Why a SendGrid body could not be built.
public enum SendGridPayloadError: Error {
    /// A batch needs at least one message.
    case emptyBatch
}
