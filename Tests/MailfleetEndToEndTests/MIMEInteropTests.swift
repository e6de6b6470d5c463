import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// Our MIME read back by an independent parser: Python's `email` package with the default
/// (strict, modern) policy must report no defects and recover every part exactly.
@Suite struct MIMEInteropTests {
    static func parse(_ messages: [String]) throws -> [[String: Any]] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mime-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var paths: [String] = []
        for (i, text) in messages.enumerated() {
            let path = folder.appendingPathComponent("\(i).eml").path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/testing/parse_mime.py").path
        let data = try runToCompletion("/usr/bin/env", ["python3", script] + paths, name: "parse_mime.py")
        return (try JSONSerialization.jsonObject(with: data) as? [[String: Any]]) ?? []
    }

    @Test func messagesWithAttachmentsAndNonASCIIRoundTripWithoutDefects() throws {
        let pdf = Data((0..<5000).map { UInt8($0 % 251) })
        let attachments = [
            MessageAttachment(filename: "report.pdf", contentType: "application/pdf", data: pdf),
            MessageAttachment(filename: "Übersicht für März – 東京 and a rather long name to force RFC 2231 sections.txt", contentType: "text/plain", data: Data("hello\r\n".utf8)),
            MessageAttachment(filename: "empty.bin", contentType: "application/octet-stream", data: Data()),
        ]
        let longLine = String(repeating: "word ", count: 400) + String(repeating: "x", count: 1200)
        let cases: [(text: String?, html: String?, attachments: [MessageAttachment])] = [
            ("Plain only ✓", nil, []),
            ("Text part\nsecond line " + longLine, "<p>HTML part – é</p>", []),
            ("With files", "<p>files</p>", attachments),
            (nil, "<p>html and a file</p>", [attachments[0]]),
        ]
        var built: [String] = []
        var contents: [MessageContent] = []
        for c in cases {
            let content = MessageContent(
                from: try EmailAddress(email: "sender@example.com", name: "Zoë Sender"),
                to: [try EmailAddress(email: "rcpt@example.com", name: "Dr. \"Quoted\" Person")],
                subject: "Grüße — a subject long enough to need folding into several encoded words, 東京",
                text: c.text, html: c.html, attachments: c.attachments)
            contents.append(content)
            let message = Message(id: UUID(), tenantID: UUID(), priority: .bulk, status: .sending, content: content)
            built.append(MIMEBuilder().build(RenderedMessage(message: message, htmlTemplate: c.html, textTemplate: c.text)))
        }
        let parsed = try Self.parse(built)
        #expect(parsed.count == cases.count)
        for (i, result) in parsed.enumerated() {
            #expect((result["defects"] as? [String]) == [], "message \(i): \(result["defects"] ?? "")")
            #expect((result["longest_line"] as? Int ?? 999) <= 998)
            #expect(result["bare_line_ends"] as? Int == 0)
            #expect(result["subject"] as? String == contents[i].subject)
            #expect(result["from"] as? String == "Zoë Sender <sender@example.com>")
            #expect(result["to"] as? String == "\"Dr. \\\"Quoted\\\" Person\" <rcpt@example.com>")
            // Python hands back the decoded body with the message's CRLF line ends; the last line
            // end is the encoder's.
            func trimmed(_ text: String?) -> String? {
                text.map { $0.replacingOccurrences(of: "\r\n", with: "\n").trimmingCharacters(in: .newlines) }
            }
            #expect(trimmed(result["text"] as? String) == trimmed(cases[i].text))
            #expect(trimmed(result["html"] as? String) == trimmed(cases[i].html))
            let files = result["attachments"] as? [[String: String]] ?? []
            #expect(files.map { $0["filename"] } == cases[i].attachments.map(\.filename))
            #expect(files.map { $0["content_type"] } == cases[i].attachments.map(\.contentType))
            #expect(files.map { Data(base64Encoded: $0["content"] ?? "") } == cases[i].attachments.map(\.data))
        }
    }
}
