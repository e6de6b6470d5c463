import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// SendGrid request bodies checked against SendGrid's own published JSON schema of
/// `POST /v3/mail/send` (`../shared/conformance/schemas`), by an independent validator
/// (Python's jsonschema).
@Suite struct SendGridSchemaTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func validate(_ bodies: [[UInt8]]) throws -> [[String]] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (i, body) in bodies.enumerated() {
            let path = folder.appendingPathComponent("\(i).json").path
            try Data(body).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let schema = root.deletingLastPathComponent().appendingPathComponent("shared/conformance/schemas/sendgrid_mail_send.schema.json").path
        let script = root.appendingPathComponent("ops/testing/validate_json_schema.py").path
        let data = try runToCompletion("/usr/bin/env", ["python3", script, schema] + paths, name: "validate_json_schema.py")
        return (try JSONSerialization.jsonObject(with: data) as? [[String]]) ?? []
    }

    func rendered(_ i: Int, _ configure: (inout MessageContent) -> Void = { _ in }) throws -> RenderedMessage {
        var content = MessageContent(
            from: try EmailAddress(email: "news@example.com", name: "Example News"), to: [try EmailAddress(email: "user\(i)@example.com")],
            subject: "Issue \(i) — ünïcode", text: "Hello", html: "<p>Hello <a href=\"[[mf:click:0]]\">x</a></p>", metadata: ["n": "\(i)"])
        configure(&content)
        let message = Message(id: UUID(), tenantID: UUID(), priority: .bulk, status: .sending, content: content)
        return RenderedMessage(message: message, htmlTemplate: content.html, textTemplate: content.text, substitutions: ["[[mf:click:0]]": "https://t.example.com/c/\(i)"])
    }

    @Test func bodiesMatchSendGridsPublishedSchema() throws {
        let account = ProviderAccount(id: UUID(), tenantID: UUID(), name: "sg", kind: .sendgrid, endpoint: nil, priority: 1, secret: "SG.x")
        let plain = ProviderBatch(account: account, messages: try (0..<3).map { try rendered($0) })
        let full = ProviderBatch(account: account, messages: try (0..<2).map { i in
            try rendered(i) { c in
                c.cc = [try! EmailAddress(email: "cc\(i)@example.com", name: "CC")]
                c.bcc = [try! EmailAddress(email: "bcc\(i)@example.com")]
                c.replyTo = try! EmailAddress(email: "reply@example.com", name: "Reply \"Desk\"")
                c.headers = ["X-Campaign": "spring"]
                c.attachments = [MessageAttachment(filename: "a.pdf", contentType: "application/pdf", data: Data([0, 1, 2, 255]))]
            }
        })
        let htmlOnly = ProviderBatch(account: account, messages: [try rendered(9) { $0.text = nil }])
        let results = try Self.validate([try SendGridPayload.encode(plain), try SendGridPayload.encode(full), try SendGridPayload.encode(htmlOnly)])
        #expect(results.count == 3)
        for (i, errors) in results.enumerated() { #expect(errors.isEmpty, "body \(i): \(errors)") }

        // The validator is not a rubber stamp: a body SendGrid would refuse is reported.
        var broken = try JSONSerialization.jsonObject(with: Data(try SendGridPayload.encode(plain))) as! [String: Any]
        broken["personalizations"] = "everyone"
        let refused = try Self.validate([Array(try JSONSerialization.data(withJSONObject: broken))])
        #expect(refused.first?.isEmpty == false)
    }
}
