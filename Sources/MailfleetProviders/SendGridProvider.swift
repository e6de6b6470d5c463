import Foundation
import MailfleetCore
import MailfleetProviderFormats
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
