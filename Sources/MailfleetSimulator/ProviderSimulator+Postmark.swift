import Foundation
import Hummingbird

extension ProviderSimulator {
    /// Postmark `POST /email/batch`: `X-Postmark-Server-Token`, a JSON array of ≤500 messages,
    /// answered 200 with one result per message. Addresses listed in the `postmark_reject`
    /// fault get ErrorCode 406 (inactive recipient) while the others are accepted.
    func postmark(_ request: Request) async throws -> Response {
        let (body, fault) = try await begin("postmark", request)
        defer { end() }
        if let fault { return fault }
        guard let token = request.headers[.init("X-Postmark-Server-Token")!], !token.isEmpty else {
            return rejected(401, SimulatorAnswer.Postmark(errorCode: 10, message: "No Account or Server API tokens were supplied in the HTTP headers."))
        }
        guard let items = (try? JSONSerialization.jsonObject(with: body)) as? [[String: Any]] else {
            return rejected(422, SimulatorAnswer.Postmark(errorCode: 402, message: "Received invalid JSON input."))
        }
        guard items.count <= 500 else {
            return rejected(422, SimulatorAnswer.Postmark(errorCode: 300, message: "Invalid email request: a batch may hold at most 500 messages."))
        }
        let rejectList = Set(state.faults.withLock { $0.postmarkReject }.map { $0.lowercased() })
        var results: [SimulatorAnswer.Postmark] = []
        var deliveries: [SimulatedDelivery] = []
        for item in items {
            let recipients = ["To", "Cc", "Bcc"].flatMap { key in
                ((item[key] as? String) ?? "").split(separator: ",").map { MailgunValidation.address(String($0)) }.filter { !$0.isEmpty }
            }
            let metadata = ((item["Metadata"] as? [String: Any]) ?? [:]).compactMapValues { $0 as? String }
            let code: Int, message: String
            if (item["From"] as? String)?.contains("@") != true {
                (code, message) = (300, "Invalid 'From' address.")
            } else if recipients.isEmpty || !recipients.allSatisfy({ $0.contains("@") }) {
                (code, message) = (300, "Invalid 'To' address.")
            } else if recipients.count > 50 {
                (code, message) = (300, "Invalid email request: more than 50 recipients.")
            } else if item["TextBody"] == nil && item["HtmlBody"] == nil {
                (code, message) = (300, "Provide either email TextBody or HtmlBody or both.")
            } else if recipients.contains(where: { rejectList.contains($0.lowercased()) }) {
                (code, message) = (406, "You tried to send to a recipient that has been marked as inactive.")
            } else {
                (code, message) = (0, "OK")
            }
            let to = (item["To"] as? String) ?? ""
            if code == 0 {
                deliveries.append(SimulatedDelivery(messageID: metadata["mailfleet_message_id"], recipients: recipients, variables: metadata))
                results.append(SimulatorAnswer.Postmark(errorCode: 0, message: "OK", messageID: UUID().uuidString.lowercased(), to: to))
            } else {
                results.append(SimulatorAnswer.Postmark(errorCode: code, message: message, to: to))
            }
        }
        return answerAccepted(deliveries, Self.json(.ok, results))
    }
}
