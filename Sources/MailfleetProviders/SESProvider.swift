import Foundation
import MailfleetCore
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
/// - it has more than 50 recipients (a bulk entry's limit; SES refuses it raw too).
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
        if (400..<500).contains(response.status), let type = SESPayload.errorType(response) {
            if SESPayload.accountErrorTypes.contains(type) {
                return .all(messages, .retryable(reason: "ses \(response.status) \(type)", retryAfter: nil), accountFailure: "ses \(type)", status: response.status)
            }
            if response.status == 400, SESPayload.bulkRefusalsSentRaw.contains(type) { return await sendRawEach(messages, call) }
        }
        if let failure = ProviderCall.failure(response, provider: "ses", messages: messages) { return failure }
        guard let results = SESPayload.bulkResults(response.body, count: messages.count) else {
            return .all(messages, .accepted(providerMessageID: nil), status: response.status)
        }
        var outcomes: [UUID: DeliveryOutcome] = [:]
        var accountFailure: String?
        for (rendered, result) in zip(messages, results) {
            switch result {
            case .accepted(let id): outcomes[rendered.message.id] = .accepted(providerMessageID: id)
            case .rejected(let reason): outcomes[rendered.message.id] = .rejected(reason: reason)
            case .retryable(let reason): outcomes[rendered.message.id] = .retryable(reason: reason, retryAfter: nil)
            case .accountFailure(let reason):
                outcomes[rendered.message.id] = .retryable(reason: reason, retryAfter: nil)
                accountFailure = accountFailure ?? reason
            }
        }
        return BatchOutcome(outcomes: outcomes, accountFailure: accountFailure, status: response.status)
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
        // NotFoundException (a configuration set that does not exist) comes as 404, the others as 400.
        if (400..<500).contains(response.status), let type = SESPayload.errorType(response), SESPayload.accountErrorTypes.contains(type) {
            return .all([rendered], .retryable(reason: "ses \(response.status) \(type)", retryAfter: nil), accountFailure: "ses \(type)", status: response.status)
        }
        if let failure = ProviderCall.failure(response, provider: "ses", messages: [rendered]) { return failure }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return .all([rendered], .accepted(providerMessageID: object?["MessageId"] as? String), status: response.status)
    }
}

/// Request bodies, the bulk-or-raw decision and result reading for SES v2.
public enum SESPayload {
    /// The email tag carrying our message id (SES echoes tags in its event publishing).
    public static let messageIDTag = "mailfleet_message_id"
    /// The template variable holding each entry's subject.
    public static let subjectVariable = "mf_subject"
    /// Entries per `SendBulkEmail` call.
    public static let maxEntries = 50
    /// Destinations per entry.
    public static let maxDestinations = 50
    /// `Template.Headers` entries.
    public static let maxTemplateHeaders = 15
    /// Characters in a header value (printable ASCII).
    public static let maxHeaderValue = 870

    /// 400 error types that mean the account cannot send at all, so the batch fails over.
    public static let accountErrorTypes: Set<String> = [
        "AccountSuspendedException", "SendingPausedException", "MailFromDomainNotVerifiedException", "NotFoundException",
    ]

    /// 400 error types of a bulk call after which its messages are sent raw, one by one: the
    /// call as a whole was refused, which a single message's raw send may not be.
    public static let bulkRefusalsSentRaw: Set<String> = ["BadRequestException"]

    /// The signer for an account whose secret is `KEY_ID:SECRET[:SESSION_TOKEN]`.
    public static func signer(for account: ProviderAccount) -> SigV4Signer? {
        let parts = (account.secret ?? "").split(separator: ":", maxSplits: 2).map(String.init)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return SigV4Signer(
            accessKeyID: parts[0], secretAccessKey: parts[1], sessionToken: parts.count == 3 ? parts[2] : nil,
            region: account.config["region"] ?? "us-east-1", service: "ses")
    }

    // MARK: Raw SendEmail

    /// The `SendEmail` body for one message as raw MIME.
    public static func sendEmail(_ rendered: RenderedMessage, mime: String, configurationSet: String?) throws -> [UInt8] {
        let c = rendered.message.content
        var root: [String: Any] = [
            "FromEmailAddress": MIMEBuilder.encodeAddress(c.from),
            "Destination": destination(c),
            "Content": ["Raw": ["Data": Data(mime.utf8).base64EncodedString()]],
            "EmailTags": [["Name": messageIDTag, "Value": rendered.message.id.lowercasedString]],
        ]
        if let configurationSet { root["ConfigurationSetName"] = configurationSet }
        return try json(root)
    }

    // MARK: Bulk or raw

    /// Why a message is sent with a raw `SendEmail` rather than in a bulk call.
    public enum RawReason: String, Sendable, Equatable {
        /// It would be the only entry of its bulk call.
        case alone
        /// Its subject, a body or a custom header contains `{{` or `}}`.
        case braces
        /// It has neither a text nor an HTML body.
        case noBody
        /// More custom headers than `Template.Headers` holds (15).
        case tooManyHeaders
        /// A custom header SES cannot carry (name refused, or value over 870 characters).
        case header
        /// An attachment's file name is over 255 characters.
        case attachmentName
        /// Its metadata header is over 870 characters.
        case metadataHeader
        /// More than 50 recipients.
        case tooManyRecipients
        /// A tracking placeholder that makes no valid, distinct SES variable name.
        case placeholder
    }

    /// Which messages share bulk calls (one list per call, ≤ 50 messages of one `ContentKey`)
    /// and which are sent raw, with the reason.
    public static func plan(_ messages: [RenderedMessage]) -> (bulk: [[RenderedMessage]], raw: [(RenderedMessage, RawReason)]) {
        var groups: [ContentKey: [RenderedMessage]] = [:]
        var order: [ContentKey] = []
        for message in messages {
            let key = message.contentKey
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(message)
        }
        var bulk: [[RenderedMessage]] = []
        var raw: [(RenderedMessage, RawReason)] = []
        for key in order {
            let group = groups[key] ?? []
            if let reason = templateProblem(group) {
                raw += group.map { ($0, reason) }
                continue
            }
            var fitting: [RenderedMessage] = []
            for message in group {
                if let reason = entryProblem(message) { raw.append((message, reason)) } else { fitting.append(message) }
            }
            var start = 0
            while start < fitting.count {
                let call = Array(fitting[start..<min(start + maxEntries, fitting.count)])
                if call.count == 1 { raw.append((call[0], .alone)) } else { bulk.append(call) }
                start += maxEntries
            }
        }
        return (bulk, raw)
    }

    /// Why messages of one `ContentKey` cannot share an inline template, or nil.
    static func templateProblem(_ group: [RenderedMessage]) -> RawReason? {
        guard let first = group.first else { return nil }
        if first.htmlTemplate == nil && first.textTemplate == nil { return .noBody }
        if [first.htmlTemplate, first.textTemplate].contains(where: { $0.map(hasBraces) ?? false }) { return .braces }
        let headers = customHeaders(first.message.content)
        if headers.count > maxTemplateHeaders { return .tooManyHeaders }
        for header in headers {
            if hasBraces(header.value) || hasBraces(header.name) { return .braces }
            if !isValidHeader(name: header.name, value: header.value) { return .header }
        }
        if first.message.content.attachments.contains(where: { $0.filename.count > 255 }) { return .attachmentName }
        var names = Set([subjectVariable])
        for placeholder in Set(group.flatMap { $0.substitutions.keys }) {
            let name = variableName(placeholder)
            guard !name.isEmpty, name.utf8.allSatisfy({ isVariableByte($0) }), names.insert(name).inserted, !hasBraces(placeholder) else {
                return .placeholder
            }
        }
        return nil
    }

    /// Why one message cannot be an entry of a bulk call, or nil.
    static func entryProblem(_ rendered: RenderedMessage) -> RawReason? {
        let c = rendered.message.content
        if hasBraces(c.subject) { return .braces }
        if c.allRecipients.count > maxDestinations { return .tooManyRecipients }
        if let metadata = MIMEBuilder.metadataHeader(c.metadata), metadata.utf8.count > maxHeaderValue { return .metadataHeader }
        return nil
    }

    // MARK: Bulk SendBulkEmail

    /// The `SendBulkEmail` body for messages of one `ContentKey` that `plan` put in one call.
    public static func sendBulkEmail(_ messages: [RenderedMessage], configurationSet: String?) throws -> [UInt8] {
        guard let first = messages.first else { return try json([:]) }
        let content = first.message.content
        let placeholders = Set(messages.flatMap { $0.substitutions.keys }).sorted()
        var templateContent: [String: Any] = ["Subject": "{{\(subjectVariable)}}"]
        if let html = first.htmlTemplate { templateContent["Html"] = variables(in: html, placeholders) }
        if let text = first.textTemplate { templateContent["Text"] = variables(in: text, placeholders) }
        var template: [String: Any] = ["TemplateContent": templateContent, "TemplateData": "{}"]
        let headers = customHeaders(content)
        if !headers.isEmpty { template["Headers"] = headers.map { ["Name": $0.name, "Value": $0.value] } }
        if !content.attachments.isEmpty {
            template["Attachments"] = content.attachments.map { attachment -> [String: Any] in
                [
                    "FileName": attachment.filename, "ContentType": attachment.contentType, "ContentDisposition": "ATTACHMENT",
                    // SES's default is SEVEN_BIT, which would break binary files.
                    "ContentTransferEncoding": "BASE64", "RawContent": attachment.data.base64EncodedString(),
                ]
            }
        }
        var entries: [[String: Any]] = []
        for rendered in messages {
            let c = rendered.message.content
            let id = rendered.message.id.lowercasedString
            var data = [subjectVariable: c.subject]
            for placeholder in placeholders {
                // A placeholder this message has no value for stays as it is, as `RenderedMessage.fill` leaves it.
                data[variableName(placeholder)] = rendered.substitutions[placeholder] ?? placeholder
            }
            var replacementHeaders = [["Name": "X-Mailfleet-Message-Id", "Value": id]]
            if let metadata = MIMEBuilder.metadataHeader(c.metadata) {
                replacementHeaders.append(["Name": "X-Mailfleet-Metadata", "Value": metadata])
            }
            entries.append([
                "Destination": destination(c),
                "ReplacementEmailContent": ["ReplacementTemplate": ["ReplacementTemplateData": String(decoding: try json(data), as: UTF8.self)]],
                "ReplacementTags": [["Name": messageIDTag, "Value": id]],
                "ReplacementHeaders": replacementHeaders,
            ])
        }
        var root: [String: Any] = [
            "FromEmailAddress": MIMEBuilder.encodeAddress(content.from),
            "DefaultContent": ["Template": template],
            "BulkEmailEntries": entries,
        ]
        if let replyTo = content.replyTo { root["ReplyToAddresses"] = [MIMEBuilder.encodeAddress(replyTo)] }
        if let configurationSet { root["ConfigurationSetName"] = configurationSet }
        return try json(root)
    }

    /// `[[mf:click:3]]` → `mf_click_3`.
    public static func variableName(_ placeholder: String) -> String { MailgunPayload.variableName(placeholder) }

    /// What one bulk entry's result means for its message.
    public enum EntryResult: Sendable, Equatable {
        case accepted(messageID: String?)
        case rejected(reason: String)
        case retryable(reason: String)
        case accountFailure(reason: String)
    }

    /// Entry statuses that say the account (not the message) cannot send.
    public static let accountStatuses: Set<String> = [
        "ACCOUNT_SUSPENDED", "ACCOUNT_SENDING_PAUSED", "MAIL_FROM_DOMAIN_NOT_VERIFIED", "CONFIGURATION_SET_NOT_FOUND",
        "CONFIGURATION_SET_SENDING_PAUSED", "TEMPLATE_NOT_FOUND", "INVALID_SENDING_POOL_NAME",
    ]

    /// Classifies one `BulkEmailEntryResult`.
    public static func entryResult(status: String, error: String?, messageID: String?) -> EntryResult {
        let reason = "ses \(status)" + (error.map { ": \($0)" } ?? "")
        switch status {
        case "SUCCESS": return .accepted(messageID: messageID)
        case "MESSAGE_REJECTED", "INVALID_PARAMETER": return .rejected(reason: reason)
        case _ where accountStatuses.contains(status) || status.hasPrefix("CONFIGURATION_SET_"): return .accountFailure(reason: reason)
        // ACCOUNT_THROTTLED, ACCOUNT_DAILY_QUOTA_EXCEEDED, TRANSIENT_FAILURE, FAILED, and any
        // status we do not know: the message was not sent, so trying again is safe.
        default: return .retryable(reason: reason)
        }
    }

    /// The results of a 200 answer, one per entry in order; nil when they cannot be matched.
    public static func bulkResults(_ body: [UInt8], count: Int) -> [EntryResult]? {
        guard let root = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let items = root["BulkEmailEntryResults"] as? [[String: Any]], items.count == count
        else { return nil }
        var results: [EntryResult] = []
        for item in items {
            guard let status = item["Status"] as? String else { return nil }
            results.append(entryResult(status: status, error: item["Error"] as? String, messageID: item["MessageId"] as? String))
        }
        return results
    }

    // MARK: Errors

    /// The error type of an SES error answer: the `x-amzn-ErrorType` header (before any colon)
    /// or the body's `__type`/`code`.
    public static func errorType(_ response: HTTPResponse) -> String? {
        if let header = response.header("x-amzn-ErrorType") {
            return String(header.split(separator: ":").first ?? Substring(header))
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
        return (object?["__type"] as? String) ?? (object?["code"] as? String)
    }

    // MARK: Helpers

    private static func destination(_ c: MessageContent) -> [String: Any] {
        var destination: [String: Any] = ["ToAddresses": c.to.map(MIMEBuilder.encodeAddress)]
        if !c.cc.isEmpty { destination["CcAddresses"] = c.cc.map(MIMEBuilder.encodeAddress) }
        if !c.bcc.isEmpty { destination["BccAddresses"] = c.bcc.map(MIMEBuilder.encodeAddress) }
        return destination
    }

    /// The message's own headers as the MIME builder writes them (reserved names left out,
    /// values as RFC 2047 encoded words when not ASCII), sorted by name.
    static func customHeaders(_ c: MessageContent) -> [(name: String, value: String)] {
        c.headers.sorted { $0.key < $1.key }.filter { !HeaderRules.isReserved($0.key) }.map { ($0.key, MIMEBuilder.encodeHeaderText($0.value)) }
    }

    /// SES's `MessageHeader` rules: a name of 1–126 printable ASCII characters without a colon,
    /// a value of 1–870 printable ASCII characters.
    static func isValidHeader(name: String, value: String) -> Bool {
        (1...126).contains(name.utf8.count) && name.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != 58 }
            && (1...maxHeaderValue).contains(value.utf8.count) && value.utf8.allSatisfy { $0 >= 32 && $0 <= 126 }
    }

    private static func hasBraces(_ text: String) -> Bool { text.contains("{{") || text.contains("}}") }

    private static func isVariableByte(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 95
    }

    private static func variables(in template: String, _ placeholders: [String]) -> String {
        var out = template
        for placeholder in placeholders { out = out.replacingOccurrences(of: placeholder, with: "{{\(variableName(placeholder))}}") }
        return out
    }

    private static func json(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
    }
}
