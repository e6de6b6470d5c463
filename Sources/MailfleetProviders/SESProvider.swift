import Foundation
import MailfleetCore
import MailfleetHTTPClient

/// Amazon SES v2 `SendEmail` (`POST /v2/email/outbound-emails`) with the message as raw MIME
/// built by `MIMEBuilder`, signed with SigV4. One call per message (SES's raw send takes one),
/// the calls of a batch made concurrently over the client's keep-alive connections.
///
/// The account's secret is `ACCESS_KEY_ID:SECRET_ACCESS_KEY` (optionally `:SESSION_TOKEN`);
/// `config["region"]` (default `us-east-1`) picks the endpoint and signing region, and
/// `config["configuration_set"]` names a configuration set.
public struct SESProvider: EmailProvider {
    private let client: HTTPClient
    private let timeout: Duration
    private let builder: MIMEBuilder

    /// Creates the adapter.
    public init(client: HTTPClient, timeout: Duration = .seconds(30), builder: MIMEBuilder = MIMEBuilder()) {
        self.client = client
        self.timeout = timeout
        self.builder = builder
    }

    /// Sends every message of the batch, one SendEmail call each.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        guard let endpoint = batch.account.effectiveEndpoint, let signer = SESPayload.signer(for: batch.account) else {
            return .all(batch, .retryable(reason: "ses account has no usable credentials", retryAfter: nil), accountFailure: "ses: secret must be KEY_ID:SECRET", status: 0)
        }
        let url = ProviderCall.base(endpoint) + "/v2/email/outbound-emails"
        let configurationSet = batch.account.config["configuration_set"]
        return await withTaskGroup(of: BatchOutcome.self) { group in
            for rendered in batch.messages {
                group.addTask {
                    let body: [UInt8]
                    do {
                        body = try SESPayload.sendEmail(rendered, mime: builder.build(rendered), configurationSet: configurationSet)
                    } catch {
                        return .all([rendered], .rejected(reason: "could not encode request: \(error)"), status: 0)
                    }
                    let headers = [(name: "Content-Type", value: "application/json")]
                    let signature = signer.sign(method: "POST", url: url, headers: headers, body: body, date: Date())
                    let request = HTTPRequest(
                        method: "POST", url: url, headers: (headers + signature.headers).map { HTTPHeader($0.name, $0.value) },
                        body: body, timeout: timeout)
                    return await self.perform(request, rendered)
                }
            }
            var parts: [BatchOutcome] = []
            for await part in group { parts.append(part) }
            return .merged(parts)
        }
    }

    private func perform(_ request: HTTPRequest, _ rendered: RenderedMessage) async -> BatchOutcome {
        let response: HTTPResponse
        switch await ProviderCall.execute(request, client: client, provider: "ses", messages: [rendered]) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        if response.status == 400, let type = SESPayload.errorType(response), SESPayload.accountErrorTypes.contains(type) {
            return .all([rendered], .retryable(reason: "ses 400 \(type)", retryAfter: nil), accountFailure: "ses \(type)", status: 400)
        }
        if let failure = ProviderCall.failure(response, provider: "ses", messages: [rendered]) { return failure }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return .all([rendered], .accepted(providerMessageID: object?["MessageId"] as? String), status: response.status)
    }
}

/// Request bodies and error reading for SES v2.
public enum SESPayload {
    /// The email tag carrying our message id (SES echoes tags in its event publishing).
    public static let messageIDTag = "mailfleet_message_id"

    /// 400 error types that mean the account cannot send at all, so the batch fails over.
    public static let accountErrorTypes: Set<String> = [
        "AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException", "NotFoundException",
    ]

    /// The signer for an account whose secret is `KEY_ID:SECRET[:SESSION_TOKEN]`.
    public static func signer(for account: ProviderAccount) -> SigV4Signer? {
        let parts = (account.secret ?? "").split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return SigV4Signer(
            accessKeyID: parts[0], secretAccessKey: parts[1], sessionToken: parts.count == 3 ? parts[2] : nil,
            region: account.config["region"] ?? "us-east-1", service: "ses")
    }

    /// The `SendEmail` body for one message as raw MIME.
    public static func sendEmail(_ rendered: RenderedMessage, mime: String, configurationSet: String?) throws -> [UInt8] {
        let c = rendered.message.content
        var destination: [String: Any] = ["ToAddresses": c.to.map(MIMEBuilder.encodeAddress)]
        if !c.cc.isEmpty { destination["CcAddresses"] = c.cc.map(MIMEBuilder.encodeAddress) }
        if !c.bcc.isEmpty { destination["BccAddresses"] = c.bcc.map(MIMEBuilder.encodeAddress) }
        var root: [String: Any] = [
            "FromEmailAddress": MIMEBuilder.encodeAddress(c.from),
            "Destination": destination,
            "Content": ["Raw": ["Data": Data(mime.utf8).base64EncodedString()]],
            "EmailTags": [["Name": messageIDTag, "Value": rendered.message.id.uuidString.lowercased()]],
        ]
        if let configurationSet { root["ConfigurationSetName"] = configurationSet }
        return Array(try JSONSerialization.data(withJSONObject: root, options: [.sortedKeys, .withoutEscapingSlashes]))
    }

    /// The error type of an SES error answer: the `x-amzn-ErrorType` header (before any colon)
    /// or the body's `__type`/`code`.
    public static func errorType(_ response: HTTPResponse) -> String? {
        if let header = response.header("x-amzn-ErrorType") {
            return String(header.split(separator: ":").first ?? Substring(header))
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return (object?["__type"] as? String) ?? (object?["code"] as? String)
    }
}
