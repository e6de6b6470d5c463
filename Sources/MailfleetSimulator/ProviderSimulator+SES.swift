import Foundation
import Hummingbird

extension ProviderSimulator {
    /// Amazon SES v2 `SendEmail` (`POST /v2/email/outbound-emails`) with raw content. Requires
    /// a SigV4 `Authorization` header and `X-Amz-Date` (their presence and shape; the simulator
    /// holds no secret to verify the signature with), ≤50 destinations and a raw MIME message.
    /// A recipient listed in the `ses_entry_status` fault gets the error SES answers a single
    /// send with for that status (e.g. `MESSAGE_REJECTED` → 400 `MessageRejected`).
    func sesSendEmail(_ request: Request) async throws -> Response {
        let (body, fault) = try await begin("ses", request)
        defer { end() }
        if let fault { return fault }
        if let problem = SESValidation.signatureProblem(
            authorization: request.headers[.authorization], amzDate: request.headers[.init("X-Amz-Date")!])
        {
            return sesError(403, "IncompleteSignatureException", problem)
        }
        switch SESValidation.validate(body) {
        case .failure(let failure): return sesError(400, failure.type, failure.message)
        case .success(let delivery):
            let injected = state.faults.withLock { $0.sesEntryStatus }
            if let status = SESValidation.injectedStatus(delivery.recipients, injected) {
                let (code, type) = SESValidation.rawError(for: status)
                return sesError(code, type, "injected \(status)")
            }
            return answerAccepted([delivery], Self.json(.ok, SimulatorAnswer.SESSent(messageId: "\(UUID().uuidString.lowercased())-000000")))
        }
    }

    /// Amazon SES v2 `SendBulkEmail` (`POST /v2/email/outbound-bulk-emails`): the same
    /// signature checks, a template in `DefaultContent` (a stored one by name is taken on trust;
    /// inline `TemplateContent` is checked and rendered for every entry, and a variable with no
    /// value in the entry's data or `TemplateData` fails the call with 400, standing in for SES's
    /// rendering failure), 1–50 entries each with 1–50 destinations; one result per entry.
    /// Entries with a recipient listed in the `ses_entry_status` fault get that status; the
    /// others are sent.
    func sesSendBulkEmail(_ request: Request) async throws -> Response {
        let (body, fault) = try await begin("ses_bulk", request)
        defer { end() }
        if let fault { return fault }
        if let problem = SESValidation.signatureProblem(
            authorization: request.headers[.authorization], amzDate: request.headers[.init("X-Amz-Date")!])
        {
            return sesError(403, "IncompleteSignatureException", problem)
        }
        switch SESValidation.validateBulk(body) {
        case .failure(let failure): return sesError(400, failure.type, failure.message)
        case .success(let deliveries):
            let injected = state.faults.withLock { $0.sesEntryStatus }
            var sent: [SimulatedDelivery] = []
            var results: [SimulatorAnswer.SESBulk.Entry] = []
            for delivery in deliveries {
                if let status = SESValidation.injectedStatus(delivery.recipients, injected) {
                    results.append(.init(status: status, error: "injected \(status)"))
                } else {
                    sent.append(delivery)
                    results.append(.init(status: "SUCCESS", messageId: "\(UUID().uuidString.lowercased())-000000"))
                }
            }
            return answerAccepted(sent, Self.json(.ok, SimulatorAnswer.SESBulk(bulkEmailEntryResults: results)))
        }
    }

    private func sesError(_ status: Int, _ type: String, _ message: String) -> Response {
        var response = rejected(status, SimulatorAnswer.Message(message: message))
        response.headers[.init("x-amzn-ErrorType")!] = type
        return response
    }
}

/// The checks SES v2 applies to SendEmail that matter to a sender.
enum SESValidation {
    struct Failure: Error {
        var type: String
        var message: String
    }

    /// Why the signature headers are unacceptable, or nil.
    static func signatureProblem(authorization: String?, amzDate: String?) -> String? {
        guard let authorization, authorization.hasPrefix("AWS4-HMAC-SHA256 ") else {
            return "Authorization header requires the AWS4-HMAC-SHA256 algorithm."
        }
        for part in ["Credential=", "SignedHeaders=", "Signature="] where !authorization.contains(part) {
            return "Authorization header requires '\(part.dropLast())' parameter."
        }
        guard let amzDate, amzDate.count == 16, amzDate.hasSuffix("Z") else {
            return "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        }
        guard authorization.contains("x-amz-date") else { return "The X-Amz-Date header must be signed." }
        return nil
    }

    static func validate(_ body: Data) -> Result<SimulatedDelivery, Failure> {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(Failure(type: "BadRequestException", message: "Body is not valid JSON."))
        }
        let destination = root["Destination"] as? [String: Any] ?? [:]
        let recipients = ["ToAddresses", "CcAddresses", "BccAddresses"].flatMap { (destination[$0] as? [String]) ?? [] }
            .map(MailgunValidation.address)
        guard let raw = ((root["Content"] as? [String: Any])?["Raw"] as? [String: Any])?["Data"] as? String,
            let mime = Data(base64Encoded: raw)
        else {
            return .failure(Failure(type: "BadRequestException", message: "Content.Raw.Data must be base64-encoded raw MIME."))
        }
        let headers = rawHeaders(String(decoding: mime, as: UTF8.self))
        guard recipients.count + (recipients.isEmpty ? 1 : 0) <= 50 else {
            return .failure(Failure(type: "BadRequestException", message: "Recipient count exceeds 50."))
        }
        guard !recipients.isEmpty || headers["to"] != nil else {
            return .failure(Failure(type: "BadRequestException", message: "Missing final destination."))
        }
        guard (root["FromEmailAddress"] as? String)?.contains("@") == true || headers["from"]?.contains("@") == true else {
            return .failure(Failure(type: "MessageRejected", message: "Missing required header 'From'."))
        }
        var variables: [String: String] = [:]
        if let json = headers["x-mailfleet-metadata"],
            let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        {
            variables = object.compactMapValues { $0 as? String }
        }
        let tags = (root["EmailTags"] as? [[String: Any]]) ?? []
        let tagged = tags.first { $0["Name"] as? String == "mailfleet_message_id" }?["Value"] as? String
        let id = tagged ?? headers["x-mailfleet-message-id"]
        if let id { variables["mailfleet_message_id"] = id }
        return .success(SimulatedDelivery(messageID: id, recipients: recipients, variables: variables))
    }

    /// The status injected for an entry: that of its first recipient listed in the fault.
    static func injectedStatus(_ recipients: [String], _ injected: [String: String]) -> String? {
        guard !injected.isEmpty else { return nil }
        let lowered = Dictionary(injected.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { first, _ in first })
        for recipient in recipients {
            if let status = lowered[recipient.lowercased()] { return status }
        }
        return nil
    }

    /// The HTTP status and error type SES answers a single `SendEmail` with, for an entry status.
    static func rawError(for status: String) -> (Int, String) {
        switch status {
        case "MESSAGE_REJECTED": return (400, "MessageRejected")
        case "ACCOUNT_SUSPENDED": return (400, "AccountSuspendedException")
        case "ACCOUNT_SENDING_PAUSED", "CONFIGURATION_SET_SENDING_PAUSED": return (400, "SendingPausedException")
        case "MAIL_FROM_DOMAIN_NOT_VERIFIED": return (400, "MailFromDomainNotVerifiedException")
        case "CONFIGURATION_SET_NOT_FOUND", "TEMPLATE_NOT_FOUND": return (404, "NotFoundException")
        case "ACCOUNT_THROTTLED", "ACCOUNT_DAILY_QUOTA_EXCEEDED": return (429, "TooManyRequestsException")
        case "INVALID_PARAMETER", "INVALID_SENDING_POOL_NAME": return (400, "BadRequestException")
        default: return (500, "InternalFailure")
        }
    }

    static func validateBulk(_ body: Data) -> Result<[SimulatedDelivery], Failure> {
        func bad(_ message: String) -> Result<[SimulatedDelivery], Failure> { .failure(Failure(type: "BadRequestException", message: message)) }
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else { return bad("Body is not valid JSON.") }
        guard (root["FromEmailAddress"] as? String)?.contains("@") == true else { return bad("FromEmailAddress is required.") }
        let template = ((root["DefaultContent"] as? [String: Any])?["Template"] as? [String: Any]) ?? [:]
        let inline = template["TemplateContent"] as? [String: Any]
        guard template["TemplateName"] is String || template["TemplateArn"] is String || inline != nil else {
            return bad("DefaultContent.Template is required.")
        }
        var parts: [String] = []
        if let inline {
            guard let subject = inline["Subject"] as? String, !subject.isEmpty else { return bad("TemplateContent.Subject is required.") }
            let html = inline["Html"] as? String, text = inline["Text"] as? String
            guard html != nil || text != nil else { return bad("TemplateContent needs Html or Text.") }
            parts = [subject] + [html, text].compactMap { $0 }
        }
        guard let defaults = templateData(template["TemplateData"]) else { return bad("TemplateData must be a JSON object.") }
        let headers = (template["Headers"] as? [[String: Any]]) ?? []
        if let problem = headerProblem(headers) { return bad("Template.Headers: \(problem)") }
        for attachment in (template["Attachments"] as? [[String: Any]]) ?? [] {
            guard let name = attachment["FileName"] as? String, (1...255).contains(name.count) else { return bad("Attachment FileName must hold 1 to 255 characters.") }
            guard let raw = attachment["RawContent"] as? String, Data(base64Encoded: raw) != nil else { return bad("Attachment RawContent must be base64.") }
            if let encoding = attachment["ContentTransferEncoding"] as? String, !["BASE64", "QUOTED_PRINTABLE", "SEVEN_BIT"].contains(encoding) {
                return bad("Invalid ContentTransferEncoding \(encoding).")
            }
        }
        guard let entries = root["BulkEmailEntries"] as? [[String: Any]], (1...50).contains(entries.count) else {
            return bad("BulkEmailEntries must hold between 1 and 50 entries.")
        }
        var deliveries: [SimulatedDelivery] = []
        for (index, entry) in entries.enumerated() {
            let destination = entry["Destination"] as? [String: Any] ?? [:]
            let recipients = ["ToAddresses", "CcAddresses", "BccAddresses"].flatMap { (destination[$0] as? [String]) ?? [] }
                .map(MailgunValidation.address)
            guard (1...50).contains(recipients.count) else { return bad("Each entry needs 1 to 50 destinations.") }
            guard recipients.allSatisfy({ $0.contains("@") }) else { return bad("Illegal address in entry \(index).") }
            let replacement = ((entry["ReplacementEmailContent"] as? [String: Any])?["ReplacementTemplate"] as? [String: Any])?["ReplacementTemplateData"]
            guard let data = templateData(replacement) else { return bad("ReplacementTemplateData of entry \(index) must be a JSON object.") }
            let values = defaults.merging(data) { _, own in own }
            for part in parts {
                if let missing = missingVariable(part, values) {
                    return bad("Rendering failure for entry \(index): Attribute '\(missing)' is not present in the rendering data.")
                }
            }
            let entryHeaders = (entry["ReplacementHeaders"] as? [[String: Any]]) ?? []
            if let problem = headerProblem(entryHeaders) { return bad("ReplacementHeaders of entry \(index): \(problem)") }
            // An entry's header replaces the template's header of the same name.
            func header(_ name: String) -> String? {
                for list in [entryHeaders, headers] {
                    if let found = list.first(where: { ($0["Name"] as? String)?.lowercased() == name }) { return found["Value"] as? String }
                }
                return nil
            }
            var variables = data
            if let json = header("x-mailfleet-metadata"),
                let object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
            {
                variables.merge(object.compactMapValues { $0 as? String }) { _, metadata in metadata }
            }
            let tags = (entry["ReplacementTags"] as? [[String: Any]]) ?? []
            let id = (tags.first { $0["Name"] as? String == "mailfleet_message_id" }?["Value"] as? String) ?? header("x-mailfleet-message-id")
            if let id { variables["mailfleet_message_id"] = id }
            deliveries.append(SimulatedDelivery(messageID: id, recipients: recipients, variables: variables))
        }
        return .success(deliveries)
    }

    /// A template data string as string values (numbers and booleans as text); `{}` when
    /// absent, nil when it is not a JSON object.
    static func templateData(_ value: Any?) -> [String: String]? {
        guard let value else { return [:] }
        guard let string = value as? String, let object = (try? JSONSerialization.jsonObject(with: Data(string.utf8))) as? [String: Any] else {
            return nil
        }
        return object.compactMapValues { value in
            if let string = value as? String { return string }
            if let number = value as? NSNumber { return number.stringValue }
            return nil
        }
    }

    /// The first `{{name}}` in a template that has no value, or nil when every one has.
    static func missingVariable(_ template: String, _ values: [String: String]) -> String? {
        var rest = template[...]
        while let open = rest.range(of: "{{") {
            guard let close = rest[open.upperBound...].range(of: "}}") else { return String(rest[open.lowerBound...].prefix(40)) }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            if values[name] == nil { return name }
            rest = rest[close.upperBound...]
        }
        return nil
    }

    /// Why a list of `MessageHeader`s breaks SES's rules (≤ 15; names of 1–126 printable ASCII
    /// characters without a colon; values of 1–870 printable ASCII characters), or nil.
    static func headerProblem(_ headers: [[String: Any]]) -> String? {
        guard headers.count <= 15 else { return "at most 15 headers." }
        for header in headers {
            guard let name = header["Name"] as? String, (1...126).contains(name.utf8.count),
                name.utf8.allSatisfy({ $0 >= 33 && $0 <= 126 && $0 != 58 })
            else { return "invalid header name." }
            guard let value = header["Value"] as? String, (1...870).contains(value.utf8.count), value.utf8.allSatisfy({ $0 >= 32 && $0 <= 126 }) else {
                return "invalid value for header \(name)."
            }
        }
        return nil
    }

    /// The unfolded header fields of a raw message, by lowercased name (first occurrence).
    static func rawHeaders(_ message: String) -> [String: String] {
        let head = message.components(separatedBy: "\r\n\r\n").first ?? ""
        var fields: [String: String] = [:]
        var current: (String, String)?
        func flush() {
            if let (name, value) = current, fields[name] == nil { fields[name] = value }
        }
        for line in head.components(separatedBy: "\r\n") {
            if line.first == " " || line.first == "\t" {
                current?.1 += line
                continue
            }
            flush()
            guard let colon = line.firstIndex(of: ":") else { current = nil; continue }
            current = (line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        flush()
        return fields
    }
}
