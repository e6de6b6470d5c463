import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct MIMETests {
    @Test func quotedPrintableKeepsLinesShortAndCRLF() {
        let text = String(repeating: "é long line with = signs and spaces ", count: 20) + "\nsecond line \nthird\r\nfourth"
        let encoded = QuotedPrintable.encode(text)
        let lines = encoded.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(!encoded.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(!encoded.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        // Trailing whitespace before a line break must be encoded.
        #expect(encoded.contains("second line=20\r\n"))
    }

    @Test func encodedWordsDecodeBackAndStayShort() {
        let subject = "Grüße aus Köln — 東京からこんにちは, with a rather long tail to force several words"
        let encoded = MIMEBuilder.encodeHeaderText(subject)
        let words = encoded.split(separator: " ")
        #expect(words.allSatisfy { $0.hasPrefix("=?UTF-8?B?") && $0.hasSuffix("?=") && $0.count <= 75 })
        let decoded = words.map { word -> String in
            let b64 = word.dropFirst("=?UTF-8?B?".count).dropLast(2)
            return String(decoding: Data(base64Encoded: String(b64))!, as: UTF8.self)
        }.joined()
        #expect(decoded == subject)
        #expect(MIMEBuilder.encodeHeaderText("plain ascii") == "plain ascii")
    }

    @Test func messagesHaveTheRequiredHeadersAndParts() throws {
        var message = makeMessage(html: "<p>Hi</p>")
        message.content.from = try EmailAddress(email: "from@example.com", name: "Zoë, Sender")
        message.content.headers = ["X-Campaign": "spring"]
        let eml = MIMEBuilder(domain: "mail.example.com").build(RenderedMessage(message: message, htmlTemplate: "<p>Hi</p>", textTemplate: "Hi"), date: Date(timeIntervalSince1970: 0))
        #expect(eml.contains("From: =?UTF-8?B?"))
        #expect(eml.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(eml.contains("Message-ID: <\(message.id.uuidString.lowercased())@mail.example.com>\r\n"))
        #expect(eml.contains("MIME-Version: 1.0\r\n"))
        #expect(eml.contains("X-Campaign: spring\r\n"))
        #expect(eml.contains("Content-Type: multipart/alternative;"))
        #expect(eml.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(eml.contains("Content-Type: text/html; charset=utf-8"))
        let lines = eml.components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 998 && !$0.contains("\n") })
    }

    @Test func quotedDisplayNamesEscapeSpecials() throws {
        let address = try EmailAddress(email: "a@example.com", name: "Example, \"Quoted\"")
        #expect(MIMEBuilder.encodeAddress(address) == "\"Example, \\\"Quoted\\\"\" <a@example.com>")
    }
}
