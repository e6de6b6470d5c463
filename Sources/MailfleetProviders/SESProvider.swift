import Foundation
import MailfleetCore
import MailfleetProviderFormats
import MailfleetHTTPClient

/// Amazon SES v2, signed with SigV4. Messages that share a body go out together in one
/// `SendBulkEmail` call (`POST /v2/email/outbound-bulk-emails`, ≤ 50 entries) with an inline
/// template; the rest go as raw MIME built by `MIMEBuilder`, one `SendEmail` call
/// (`POST /v2/email/outbound-emails`) each, made concurrently over keep-alive connections.
///
/// The bulk call's template (`DefaultContent.Template`) carries what the messages share: the
/// body templates with every tracking placeholder turned into an SES variable
/// (`[[mf:click:3]]` → `{{mf_click_3}}`), the subject as `{{mf_subject}}` (so messages with
/// different subjects share a call), custom headers (`Headers`) and attachments. Each entry
/// carries one message: its destinations, its replacement data (subject and tracking URLs),
/// the `mailfleet_message_id` tag, and `X-Mailfleet-Message-Id` / `X-Mailfleet-Metadata` as
/// replacement headers, as the raw path's MIME has them. From (with its display name),
/// `ReplyToAddresses` and the configuration set are set on the call as the raw path sets them.
/// `Message-ID` and `Date` are SES's own on the bulk path; SES's `MessageId` is recorded.
///
/// A message is sent raw instead (`SESPayload.plan`) when:
/// - it would be alone in its bulk call (one call either way; raw keeps the MIME exact);
/// - its subject, bodies or custom headers contain `{{` or `}}` (SES would read them as
///   variables);
/// - it has neither a text nor an HTML body (the template needs one);
/// - it has more than 15 custom headers, or one SES cannot carry (a value over 870
///   characters once encoded, a name SES refuses);
/// - an attachment's file name is longer than 255 characters;
/// - its metadata header (the compact JSON the MIME builder writes) is over 870 characters;
/// - it has more than 50 recipients (a bulk entry's limit; SES refuses it raw too);
/// - a tracking placeholder of its body makes no valid, distinct SES variable name.
/// And a whole bulk call answered `400 BadRequestException` (something in the call SES would
/// not take) is sent again raw, message by message, so one bad entry cannot fail the others.
///
/// Per-entry results (`BulkEmailEntryResults`, in entry order): `SUCCESS` is accepted with its
/// `MessageId`; `MESSAGE_REJECTED` and `INVALID_PARAMETER` reject that message alone; statuses
/// that say the account cannot send (`ACCOUNT_SUSPENDED`, `ACCOUNT_SENDING_PAUSED`,
/// `MAIL_FROM_DOMAIN_NOT_VERIFIED`, `CONFIGURATION_SET_*`, `TEMPLATE_NOT_FOUND`,
/// `INVALID_SENDING_POOL_NAME`) are retryable and an account failure, so the batch fails over;
/// anything else (`ACCOUNT_THROTTLED`, `ACCOUNT_DAILY_QUOTA_EXCEEDED`, `TRANSIENT_FAILURE`,
/// `FAILED`, statuses we do not know) is retryable for that message. A 200 whose results
/// cannot be matched to the entries counts them as accepted without ids (resending could
/// duplicate mail), as for Postmark. Whole-call errors are classified as for every provider.
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

    /// Sends the batch: bulk calls for what fits a template, a raw call for each other message.
    public func send(_ batch: ProviderBatch) async -> BatchOutcome {
        guard let endpoint = batch.account.effectiveEndpoint, let signer = SESPayload.signer(for: batch.account) else {
            return .all(batch, .retryable(reason: "ses account has no usable credentials", retryAfter: nil), accountFailure: "ses: secret must be KEY_ID:SECRET", status: 0)
        }
        let call = Call(base: ProviderCall.base(endpoint), signer: signer, configurationSet: batch.account.config["configuration_set"])
        let plan = SESPayload.plan(batch.messages)
        return await withTaskGroup(of: BatchOutcome.self) { group in
            for messages in plan.bulk {
                group.addTask { await self.sendBulk(messages, call) }
            }
            for (rendered, _) in plan.raw {
                group.addTask { await self.sendRaw(rendered, call) }
            }
            var parts: [BatchOutcome] = []
            for await part in group { parts.append(part) }
            return .merged(parts)
        }
    }

    /// What every call of one batch shares.
    private struct Call: Sendable {
        var base: String
        var signer: SigV4Signer
        var configurationSet: String?
    }

    private func request(_ path: String, _ body: [UInt8], _ call: Call) -> HTTPRequest {
        let url = call.base + path
        let headers = [(name: "Content-Type", value: "application/json")]
        let signature = call.signer.sign(method: "POST", url: url, headers: headers, body: body, date: Date())
        return HTTPRequest(
            method: "POST", url: url, headers: (headers + signature.headers).map { HTTPHeader($0.name, $0.value) }, body: body,
            timeout: timeout)
    }

    /// The SES error type of a 4xx answer; nil for any other status.
    private static func errorType(_ response: HTTPResponse) -> String? {
        guard (400..<500).contains(response.status) else { return nil }
        return SESPayload.errorType(header: response.header("x-amzn-ErrorType"), body: response.body)
    }

    private func sendBulk(_ messages: [RenderedMessage], _ call: Call) async -> BatchOutcome {
        let body: [UInt8]
        do {
            body = try SESPayload.sendBulkEmail(messages, configurationSet: call.configurationSet)
        } catch {
            return await sendRawEach(messages, call)
        }
        let response: HTTPResponse
        switch await ProviderCall.execute(request("/v2/email/outbound-bulk-emails", body, call), client: client, provider: "ses", messages: messages) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        let type = Self.errorType(response)
        if let failure = SESPayload.accountFailure(status: response.status, errorType: type, messages: messages) { return failure }
        if response.status == 400, let type, SESPayload.bulkRefusalsSentRaw.contains(type) { return await sendRawEach(messages, call) }
        if let failure = ProviderCall.failure(response, provider: "ses", messages: messages) { return failure }
        guard let results = SESPayload.bulkResults(response.body, count: messages.count) else {
            return .all(messages, .accepted(providerMessageID: nil), status: response.status)
        }
        return .perMessage(messages, results, status: response.status)
    }

    private func sendRawEach(_ messages: [RenderedMessage], _ call: Call) async -> BatchOutcome {
        await withTaskGroup(of: BatchOutcome.self) { group in
            for rendered in messages { group.addTask { await self.sendRaw(rendered, call) } }
            var parts: [BatchOutcome] = []
            for await part in group { parts.append(part) }
            return .merged(parts)
        }
    }

    private func sendRaw(_ rendered: RenderedMessage, _ call: Call) async -> BatchOutcome {
        let body: [UInt8]
        do {
            body = try SESPayload.sendEmail(rendered, mime: builder.build(rendered), configurationSet: call.configurationSet)
        } catch {
            return .all([rendered], .rejected(reason: "could not encode request: \(error)"), status: 0)
        }
        let response: HTTPResponse
        switch await ProviderCall.execute(request("/v2/email/outbound-emails", body, call), client: client, provider: "ses", messages: [rendered]) {
        case .response(let r): response = r
        case .failed(let outcome): return outcome
        }
        if let failure = SESPayload.accountFailure(status: response.status, errorType: Self.errorType(response), messages: [rendered]) {
            return failure
        }
        if let failure = ProviderCall.failure(response, provider: "ses", messages: [rendered]) { return failure }
        return .all([rendered], .accepted(providerMessageID: SESPayload.messageID(inAnswer: response.body)), status: response.status)
    }
}
