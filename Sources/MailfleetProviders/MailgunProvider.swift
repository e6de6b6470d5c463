import Foundation
import MailfleetCore
import MailfleetProviderFormats
import MailfleetHTTPClient

/// Mailgun `POST /v3/{domain}/messages` with basic auth `api:<key>`. A batch of single-recipient
/// messages is one call using recipient-variables (see `MailgunPayload`). The account's
/// `config["domain"]` names the sending domain; `config["region"] = "eu"` selects the EU API.
public struct MailgunProvider: EmailProvider {
    private let client: HTTPClient
    private let timeout: Duration

    /// Creates the adapter.
    public init(client: HTTPClient, timeout: Duration = .seconds(30)) {
        self.client = client
        self.timeout = timeout
    }

    /// Sends the batch in as few calls as recipient-variables allow, concurrently.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        guard let endpoint = batch.account.effectiveEndpoint, let domain = batch.account.config["domain"], !domain.isEmpty else {
            return .all(batch, .retryable(reason: "mailgun account has no domain", retryAfter: nil), accountFailure: "mailgun: config domain missing", status: 0)
        }
        let credentials = Data("api:\(batch.account.secret ?? "")".utf8).base64EncodedString()
        let url = ProviderCall.base(endpoint) + "/v3/\(domain.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? domain)/messages"
        return await withTaskGroup(of: BatchOutcome.self) { group in
            for call in MailgunPayload.calls(for: batch.messages) {
                group.addTask {
                    let form = MailgunPayload.form(for: call.messages, batched: call.batched)
                    let request = HTTPRequest(
                        method: "POST", url: url,
                        headers: [HTTPHeader("Authorization", "Basic \(credentials)"), HTTPHeader("Content-Type", form.contentType)],
                        body: form.body, timeout: timeout)
                    return await self.perform(request, messages: call.messages)
                }
            }
            var parts: [BatchOutcome] = []
            for await part in group { parts.append(part) }
            return .merged(parts)
        }
    }

    private func perform(_ request: HTTPRequest, messages: [RenderedMessage]) async -> BatchOutcome {
        let response: HTTPResponse
        switch await ProviderCall.execute(request, client: client, provider: "mailgun", messages: messages) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        if let failure = ProviderCall.failure(response, provider: "mailgun", messages: messages) { return failure }
        return .all(messages, .accepted(providerMessageID: MailgunPayload.messageID(inAnswer: response.body)), status: response.status)
    }
}
