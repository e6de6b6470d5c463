import Foundation
import Hummingbird

extension ProviderSimulator {
    /// Mailgun `POST /v3/{domain}/messages`: basic auth `api:<key>`, a multipart form with
    /// from, to (≤1,000), subject, text or html, and optional recipient-variables (a JSON
    /// object with an entry per `to` address, which turns the call into a batch send).
    func mailgun(_ request: Request, domain: String) async throws -> Response {
        let (body, fault) = try await begin("mailgun", request)
        defer { end() }
        if let fault { return fault }
        guard let auth = request.headers[.authorization], auth.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(auth.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) }),
            decoded.hasPrefix("api:"), decoded.count > 4
        else { return rejected(401, SimulatorAnswer.Message(message: "Forbidden")) }
        guard !domain.isEmpty else { return rejected(404, SimulatorAnswer.Message(message: "Domain not found")) }
        guard let boundary = MultipartFormParser.boundary(contentType: request.headers[.contentType] ?? ""),
            let fields = MultipartFormParser.parse(body, boundary: boundary)
        else { return mailgunError("'from' parameter is missing") }
        switch MailgunValidation.validate(fields) {
        case .failure(let failure): return mailgunError(failure.message)
        case .success(let deliveries):
            let id = "<\(Self.messageID())@\(domain)>"
            return answerAccepted(deliveries, Self.json(.ok, SimulatorAnswer.MailgunQueued(id: id)))
        }
    }

    private func mailgunError(_ message: String) -> Response {
        rejected(400, SimulatorAnswer.Message(message: message))
    }
}

/// The checks Mailgun's messages API applies that matter to a sender.
enum MailgunValidation {
    struct Failure: Error {
        var message: String
    }

    static func validate(_ fields: [(name: String, value: String)]) -> Result<[SimulatedDelivery], Failure> {
        func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }
        guard let from = values("from").first, from.contains("@") else { return .failure(Failure(message: "'from' parameter is missing")) }
        let to = values("to").flatMap { $0.split(separator: ",").map { address(String($0)) } }
        guard !to.isEmpty, to.allSatisfy({ $0.contains("@") }) else { return .failure(Failure(message: "'to' parameter is missing")) }
        let all = to + values("cc").map(address) + values("bcc").map(address)
        guard all.count <= 1000 else { return .failure(Failure(message: "Too many recipients: the limit is 1000")) }
        guard values("subject").first != nil else { return .failure(Failure(message: "'subject' parameter is missing")) }
        guard values("text").first != nil || values("html").first != nil else {
            return .failure(Failure(message: "Need at least one of 'text', 'html' or 'template' parameters specified"))
        }
        var custom: [String: String] = [:]
        for field in fields where field.name.hasPrefix("v:") { custom[String(field.name.dropFirst(2))] = field.value }

        guard let raw = values("recipient-variables").first else {
            // An ordinary message: every recipient gets the same copy.
            return .success([SimulatedDelivery(messageID: custom["mailfleet_message_id"], recipients: all, variables: custom)])
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
            return .failure(Failure(message: "recipient-variables parameter is not a valid JSON"))
        }
        var byAddress: [String: [String: String]] = [:]
        for (key, value) in object {
            guard let entry = value as? [String: Any] else { return .failure(Failure(message: "recipient-variables parameter is not a valid JSON")) }
            byAddress[key.lowercased()] = entry.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }
        }
        // A batch send: each `to` address gets its own copy, its variables substituted.
        var deliveries: [SimulatedDelivery] = []
        for recipient in to {
            let own = byAddress[recipient.lowercased()] ?? [:]
            let resolved = custom.mapValues { substitute($0, own) }
            deliveries.append(SimulatedDelivery(messageID: resolved["mailfleet_message_id"], recipients: [recipient], variables: resolved))
        }
        return .success(deliveries)
    }

    /// `%recipient.name%` replaced by the recipient's variable; unknown names stay as they are,
    /// as Mailgun leaves them.
    static func substitute(_ text: String, _ variables: [String: String]) -> String {
        var out = text
        for (name, value) in variables { out = out.replacingOccurrences(of: "%recipient.\(name)%", with: value) }
        return out
    }

    /// The bare address of `Name <a@b>` or `a@b`.
    static func address(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            return String(trimmed[trimmed.index(after: open)..<close])
        }
        return trimmed
    }
}
