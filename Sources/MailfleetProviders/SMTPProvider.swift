import Foundation
import MailfleetCore
import MailfleetProviderFormats
import MailfleetHTTPClient

/// SMTP submission through libcurl: one transaction per message (MAIL FROM, RCPT TO for every
/// recipient, DATA with the MIME built by `MIMEBuilder`), the messages of a batch sent
/// concurrently over the HTTP client's connection cache, so connections (and their STARTTLS
/// and AUTH) are reused from message to message.
///
/// A recipient refused at RCPT TO does not stop the transaction while others are accepted:
/// the message goes to those, counts as accepted, and the refused recipients are reported in
/// `BatchOutcome.refusals` with the server's reply (`SMTPReplyClass.outcome`). When every
/// recipient is refused, the message is rejected (all 5xx) or retried (some 4xx).
///
/// The account's endpoint is the server URL (`smtp://host:587` or `smtps://host:465`); its
/// secret is `username:password` (AUTH is skipped without one); `config["tls"]` is
/// `starttls` (default: STARTTLS required), `starttls-optional` or `none` for `smtp://` URLs;
/// `config["ca_file"]` names a PEM file of CAs to trust instead of the system's.
public struct SMTPProvider: EmailProvider {
    private let client: HTTPClient
    private let timeout: Duration
    private let builder: MIMEBuilder

    /// Creates the adapter.
    public init(client: HTTPClient, timeout: Duration = .seconds(60), builder: MIMEBuilder = MIMEBuilder()) {
        self.client = client
        self.timeout = timeout
        self.builder = builder
    }

    /// Sends every message of the batch, one transaction each.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        let account = batch.account
        guard let url = account.effectiveEndpoint, url.lowercased().hasPrefix("smtp://") || url.lowercased().hasPrefix("smtps://"),
            let security = SMTPRequest.Security(rawValue: account.config["tls"] ?? "starttls")
        else {
            return .all(batch, .retryable(reason: "smtp account needs an smtp:// or smtps:// endpoint and a valid tls setting", retryAfter: nil), accountFailure: "smtp: bad configuration", status: 0)
        }
        var username: String?, password: String?
        if let secret = account.secret, !secret.isEmpty {
            let parts = secret.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            username = parts[0]
            password = parts.count > 1 ? parts[1] : ""
        }
        return await withTaskGroup(of: BatchOutcome.self) { group in
            for rendered in batch.messages {
                let content = rendered.message.content
                let request = SMTPRequest(
                    url: url, mailFrom: content.from.email, recipients: content.allRecipients.map(\.email),
                    message: Array(builder.build(rendered).utf8), username: username, password: password, security: security,
                    caFile: account.config["ca_file"], timeout: timeout)
                group.addTask { await self.perform(request, rendered) }
            }
            var parts: [BatchOutcome] = []
            for await part in group { parts.append(part) }
            return .merged(parts)
        }
    }

    private func perform(_ request: SMTPRequest, _ rendered: RenderedMessage) async -> BatchOutcome {
        let reply: SMTPReply
        do {
            reply = try await client.send(mail: request)
        } catch {
            return .all([rendered], .retryable(reason: "smtp: \(error)", retryAfter: nil), status: 0)
        }
        let id = rendered.message.id
        let result = SMTPReplyClass.outcome(
            code: reply.code, detail: reply.detail, replies: reply.recipients.map { ($0.address, $0.code, $0.text) },
            recipients: request.recipients.count, providerMessageID: "<\(id.lowercasedString)@\(builder.domain)>")
        return BatchOutcome(
            outcomes: [id: result.outcome], accountFailure: result.accountFailure, status: reply.code,
            refusals: result.refusals.isEmpty ? [:] : [id: result.refusals])
    }
}
