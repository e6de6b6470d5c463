import Foundation
import MailfleetCore

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

    /// 4xx error types that mean the account cannot send at all, so the batch fails over
    /// (`NotFoundException`, a configuration set that does not exist, comes as 404; the others as 400).
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
        // A List-Unsubscribe naming a very long address can pass SES's 870 characters.
        if rendered.ownHeaders.contains(where: { !isValidHeader(name: $0.name, value: $0.value) }) { return .header }
        return nil
    }

    /// `[[mf:click:3]]` → `mf_click_3`.
    public static func variableName(_ placeholder: String) -> String { MailgunPayload.variableName(placeholder) }

    // MARK: Helpers

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

    static func variables(in template: String, _ placeholders: [String]) -> String {
        var out = template
        for placeholder in placeholders { out = out.replacingOccurrences(of: placeholder, with: "{{\(variableName(placeholder))}}") }
        return out
    }
}
