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
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        let request = HTTPRequest(
            method: "POST", url: base + "/v3/mail/send",
            headers: [
                HTTPHeader("Authorization", "Bearer \(batch.account.secret ?? "")"),
                HTTPHeader("Content-Type", "application/json"),
            ],
            body: body, timeout: timeout)
        let response: HTTPResponse
        do {
            response = try await client.execute(request)
        } catch {
            return .all(batch, .retryable(reason: "sendgrid: \(error)", retryAfter: nil), status: 0)
        }
        let detail = String(response.bodyString.prefix(300))
        switch ResponseClassifier.classify(status: response.status, retryAfter: response.header("Retry-After")) {
        case .accepted:
            return .all(batch, .accepted(providerMessageID: response.header("X-Message-Id")), status: response.status)
        case .retryable(let retryAfter):
            return .all(batch, .retryable(reason: "sendgrid \(response.status): \(detail)", retryAfter: retryAfter), status: response.status)
        case .accountFailure:
            return .all(
                batch, .retryable(reason: "sendgrid \(response.status): \(detail)", retryAfter: nil),
                accountFailure: "sendgrid \(response.status)", status: response.status)
        case .rejected:
            return .all(batch, .rejected(reason: "sendgrid \(response.status): \(detail)"), status: response.status)
        }
    }
}

/// The JSON body of a SendGrid mail/send call.
public enum SendGridPayload {
    /// The custom_args key that carries our message id.
    public static let messageIDArg = "mailfleet_message_id"

    /// Encodes a batch whose messages share one `ContentKey`.
    public static func encode(_ batch: ProviderBatch) throws -> [UInt8] {
        guard let first = batch.messages.first else { throw SendGridPayloadError.emptyBatch }
        let content = first.message.content
        var root: [String: Any] = [:]
        root["from"] = address(content.from)
        if let replyTo = content.replyTo { root["reply_to"] = address(replyTo) }
        root["subject"] = content.subject
        var parts: [[String: String]] = []
        if let text = first.textTemplate { parts.append(["type": "text/plain", "value": text]) }
        if let html = first.htmlTemplate { parts.append(["type": "text/html", "value": html]) }
        root["content"] = parts
        if !content.headers.isEmpty { root["headers"] = content.headers }
        if !content.attachments.isEmpty {
            root["attachments"] = content.attachments.map {
                ["content": $0.content, "filename": $0.filename, "type": $0.contentType, "disposition": "attachment"]
            }
        }
        root["personalizations"] = batch.messages.map { rendered -> [String: Any] in
            let c = rendered.message.content
            var p: [String: Any] = ["to": c.to.map(address), "subject": c.subject]
            if !c.cc.isEmpty { p["cc"] = c.cc.map(address) }
            if !c.bcc.isEmpty { p["bcc"] = c.bcc.map(address) }
            var args = c.metadata
            args[messageIDArg] = rendered.message.id.uuidString.lowercased()
            p["custom_args"] = args
            if !rendered.substitutions.isEmpty { p["substitutions"] = rendered.substitutions }
            return p
        }
        return Array(try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    private static func address(_ a: EmailAddress) -> [String: String] {
        var out = ["email": a.email]
        if let name = a.name { out["name"] = name }
        return out
    }
}

/// Why a SendGrid body could not be built.
public enum SendGridPayloadError: Error {
    /// A batch needs at least one message.
    case emptyBatch
}
