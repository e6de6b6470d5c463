import Foundation
import MailfleetCore
import MailfleetProviderFormats
import MailfleetHTTPClient

/// Postmark `POST /email/batch` with `X-Postmark-Server-Token`: one call per batch of up to 500
/// messages; the answer has one result per message, so a rejected recipient fails only its own
/// message. `config["message_stream"]` picks the stream (Postmark's default when absent).
public struct PostmarkProvider: EmailProvider {
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
            body = try PostmarkPayload.encode(batch.messages, messageStream: batch.account.config["message_stream"])
        } catch {
            return .all(batch, .rejected(reason: "could not encode request: \(error)"), status: 0)
        }
        let request = HTTPRequest(
            method: "POST", url: ProviderCall.base(endpoint) + "/email/batch",
            headers: [
                HTTPHeader("X-Postmark-Server-Token", batch.account.secret ?? ""),
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("Accept", "application/json"),
            ],
            body: body, timeout: timeout)
        let response: HTTPResponse
        switch await ProviderCall.execute(request, client: client, provider: "postmark", messages: batch.messages) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        if let failure = ProviderCall.failure(response, provider: "postmark", messages: batch.messages) { return failure }
        guard let results = PostmarkPayload.results(response.body, count: batch.messages.count) else {
            // Accepted, but we cannot tell which messages: retrying could duplicate, so treat the
            // call as accepted without ids rather than resend.
            return .all(batch, .accepted(providerMessageID: nil), status: response.status)
        }
        return .perMessage(batch.messages, results, status: response.status)
    }
}
