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
