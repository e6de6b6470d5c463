import Foundation
import MailfleetCore
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
            of: reply, recipients: request.recipients.count, providerMessageID: "<\(id.lowercasedString)@\(builder.domain)>")
        return BatchOutcome(
            outcomes: [id: result.outcome], accountFailure: result.accountFailure, status: reply.code,
            refusals: result.refusals.isEmpty ? [:] : [id: result.refusals])
    }
}

/// How an SMTP reply code reads for one message.
public enum SMTPReplyClass: Sendable, Equatable {
    /// 2xx: the server took the message.
    case accepted
    /// 4xx (and anything unexpected): a transient failure; try again.
    case retryable
    /// 530/534/535/538: authentication required or refused, so the account is at fault.
    case accountFailure
    /// Other 5xx (e.g. 550 recipient refused, 552, 554): permanent for this message.
    case rejected

    /// Classifies a final reply code.
    public static func classify(_ code: Int) -> SMTPReplyClass {
        switch code {
        case 200..<300: return .accepted
        case 530, 534, 535, 538: return .accountFailure
        case 500..<600: return .rejected
        default: return .retryable
        }
    }

    /// What a transaction's reply means for its message, reading each recipient's RCPT TO reply:
    ///
    /// - the server took the message: accepted, and every refused recipient is reported (the
    ///   message reached the others);
    /// - the server refused every recipient (the transaction ended before DATA): rejected when
    ///   every refusal is permanent (5xx), an account failure when one is an authentication
    ///   reply (530, 534, 535, 538), otherwise retryable (some recipient may take it later);
    /// - anything else (MAIL FROM or DATA refused, AUTH failed, a libcurl that stops at the
    ///   first refused recipient): classified by the last reply code.
    public static func outcome(
        of reply: SMTPReply, recipients: Int, providerMessageID: String
    ) -> (outcome: DeliveryOutcome, accountFailure: String?, refusals: [RecipientRefusal]) {
        let refused = reply.refused
        if reply.accepted {
            return (.accepted(providerMessageID: providerMessageID), nil, refused.map { RecipientRefusal(address: $0.address, code: $0.code, reply: $0.text) })
        }
        if recipients > 0, reply.recipients.count == recipients, refused.count == recipients {
            let reason = "smtp: every recipient refused: " + refused.map { "\($0.address) \($0.code) \($0.text)" }.joined(separator: "; ")
            if let auth = refused.first(where: { classify($0.code) == .accountFailure }) {
                return (.retryable(reason: reason, retryAfter: nil), "smtp \(auth.code)", [])
            }
            if refused.allSatisfy({ classify($0.code) == .rejected }) { return (.rejected(reason: reason), nil, []) }
            return (.retryable(reason: reason, retryAfter: nil), nil, [])
        }
        let reason = "smtp \(reply.code): \(reply.detail)"
        switch classify(reply.code) {
        case .accepted, .retryable: return (.retryable(reason: reason, retryAfter: nil), nil, [])
        case .accountFailure: return (.retryable(reason: reason, retryAfter: nil), "smtp \(reply.code)", [])
        case .rejected: return (.rejected(reason: reason), nil, [])
        }
    }
}
