import Foundation
import Hummingbird
import MailfleetObservability

extension ProviderSimulator {
    /// Amazon SES v2 `SendEmail` (`POST /v2/email/outbound-emails`) with raw content. Requires
    /// a SigV4 `Authorization` header and `X-Amz-Date` (their presence and shape; the simulator
    /// holds no secret to verify the signature with), ≤50 destinations and a raw MIME message.
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
            state.recordAccepted([delivery])
            return Self.json(.ok, "{\"MessageId\":\"\(UUID().uuidString.lowercased())-000000\"}")
        }
    }

    /// Amazon SES v2 `SendBulkEmail` (`POST /v2/email/outbound-bulk-emails`): the same
    /// signature checks, a template in `DefaultContent`, 1–50 entries each with its own
    /// destination, replacement data and tags; one result per entry.
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
            state.recordAccepted(deliveries)
            let results = deliveries.map { _ in "{\"Status\":\"SUCCESS\",\"MessageId\":\"\(UUID().uuidString.lowercased())-000000\"}" }
            return Self.json(.ok, "{\"BulkEmailEntryResults\":[\(results.joined(separator: ","))]}")
        }
    }

    private func sesError(_ status: Int, _ type: String, _ message: String) -> Response {
        var response = rejected(status, "{\"message\":\(JSONString.quote(message))}")
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

    static func validateBulk(_ body: Data) -> Result<[SimulatedDelivery], Failure> {
        guard let root = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] else {
            return .failure(Failure(type: "BadRequestException", message: "Body is not valid JSON."))
        }
        guard (root["FromEmailAddress"] as? String)?.contains("@") == true else {
            return .failure(Failure(type: "BadRequestException", message: "FromEmailAddress is required."))
        }
        let template = ((root["DefaultContent"] as? [String: Any])?["Template"] as? [String: Any]) ?? [:]
        guard template["TemplateName"] is String || template["TemplateArn"] is String || template["TemplateContent"] is [String: Any] else {
            return .failure(Failure(type: "BadRequestException", message: "DefaultContent.Template is required."))
        }
        guard let entries = root["BulkEmailEntries"] as? [[String: Any]], (1...50).contains(entries.count) else {
            return .failure(Failure(type: "BadRequestException", message: "BulkEmailEntries must hold between 1 and 50 entries."))
        }
        var deliveries: [SimulatedDelivery] = []
        for entry in entries {
            let destination = entry["Destination"] as? [String: Any] ?? [:]
            let recipients = ["ToAddresses", "CcAddresses", "BccAddresses"].flatMap { (destination[$0] as? [String]) ?? [] }
                .map(MailgunValidation.address)
            guard (1...50).contains(recipients.count) else {
                return .failure(Failure(type: "BadRequestException", message: "Each entry needs 1 to 50 destinations."))
            }
            let data = ((entry["ReplacementEmailContent"] as? [String: Any])?["ReplacementTemplate"] as? [String: Any])?["ReplacementTemplateData"] as? String
            var variables = data.flatMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }?.compactMapValues { $0 as? String } ?? [:]
            let tags = (entry["ReplacementTags"] as? [[String: Any]]) ?? []
            let id = tags.first { $0["Name"] as? String == "mailfleet_message_id" }?["Value"] as? String
            if let id { variables["mailfleet_message_id"] = id }
            deliveries.append(SimulatedDelivery(messageID: id, recipients: recipients, variables: variables))
        }
        return .success(deliveries)
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
