import Foundation
import MailfleetCore
import Testing

/// The hand-written storage JSON must read back, through the same decoder the store uses,
/// as exactly what was written, whatever the strings hold.
@Suite struct StorageJSONTests {
    static let awkward = ["", "plain", "quote \" and backslash \\ and slash /", "tab\tnew\nline\rreturn", "\u{1}\u{1f}\u{7f}",
                          "ünïcödé 日本語 🎉", "</script>", "\u{2028}\u{2029}"]

    func content(_ s: String, _ i: Int) throws -> MessageContent {
        var metadata = ["k": "v"]
        metadata[s] = s
        return MessageContent(
            from: try EmailAddress(email: "from@example.com", name: s.isEmpty ? nil : "N \(i)"),
            to: [try EmailAddress(email: "to\(i)@example.com")], cc: i % 2 == 0 ? [try EmailAddress(email: "cc@example.com")] : [],
            replyTo: i % 3 == 0 ? try EmailAddress(email: "r@example.com", name: "R") : nil,
            subject: s, text: i % 2 == 0 ? s : nil, html: "<p>\(s)</p>", headers: ["X-A": s, "X-B": "b"], metadata: metadata,
            tags: [s, "t"], trackOpens: i % 2 == 0, trackClicks: i % 3 == 0,
            attachments: i % 2 == 0 ? [MessageAttachment(filename: "f \(i).txt", contentType: "text/plain", data: Data(s.utf8))] : [])
    }

    @Test func contentAndBodyReadBackUnchanged() throws {
        for (i, s) in Self.awkward.enumerated() {
            let original = try content(s, i)
            let json = original.storageJSON
            #expect(try JSONSerialization.jsonObject(with: Data(json)) is [String: Any])
            #expect(try JSONDecoder().decode(MessageContent.self, from: Data(json)) == original)
            #expect(MessageContent(storageJSON: json) == original)
            // What earlier versions stored (Foundation's encoder) reads the same way.
            #expect(MessageContent(storageJSON: try JSONEncoder().encode(original)) == original)
            #expect(MessageBody(storageJSON: original.body.storageJSON) == original.body)
            let body = original.body
            #expect(try JSONDecoder().decode(MessageBody.self, from: Data(body.storageJSON)) == body)
            #expect(try JSONDecoder().decode(MessageContent.self, from: Data(original.envelope.storageJSON)).with(body) == original)
        }
    }

    @Test func randomStringsRoundTrip() throws {
        var rng = SystemRandomNumberGenerator()
        for i in 0..<2_000 {
            var s = ""
            for _ in 0..<Int.random(in: 0...20, using: &rng) {
                let value = [UInt32.random(in: 0...0x7f, using: &rng), UInt32.random(in: 0...0x2fff, using: &rng), UInt32.random(in: 0x1f300...0x1f6ff, using: &rng)].randomElement(using: &rng)!
                if let scalar = Unicode.Scalar(value) { s.unicodeScalars.append(scalar) }
            }
            let original = try content(s, i)
            #expect(try JSONDecoder().decode(MessageContent.self, from: Data(original.storageJSON)) == original, "\(s.debugDescription)")
            #expect(MessageContent(storageJSON: original.storageJSON) == original, "\(s.debugDescription)")
        }
    }

    @Test func equalBodiesHaveEqualKeys() {
        let a = MessageBody(text: "t", html: "<p>h</p>")
        let b = MessageBody(text: "t", html: "<p>h</p>")
        let c = MessageBody(text: "t", html: "<p>H</p>")
        #expect(MessageBody.storageKey(ofEncoded: a.storageJSON) == MessageBody.storageKey(ofEncoded: b.storageJSON))
        #expect(MessageBody.storageKey(ofEncoded: a.storageJSON) != MessageBody.storageKey(ofEncoded: c.storageJSON))
        #expect(MessageBody.storageKey(ofEncoded: a.storageJSON).count == 64)
    }

    @Test func theReaderAgreesWithFoundation() throws {
        let documents = [
            #"{"a":[1,-2.5,3e2,0,true,false,null],"b":{"c":"\u00e9\ud83c\udf89\n\"\\\/"},"d":""}"#,
            #"  [ ]  "#, #"{}"#, #""just a string""#, #"-0.0"#, #"[[[[]]]]"#,
        ]
        for text in documents {
            let ours = try JSONReader.parse(text)
            let theirs = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
            #expect(NSDictionary(dictionary: ["v": ours.plain]).isEqual(to: ["v": theirs]), "\(text)")
        }
        let malformed = ["", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "01", "1.", "-", "tru", "\"\\u12\"", "\"a\u{1}b\"", "[1] x",
                         "\"\\ud800\"", "{\"a\":1,\"a\":2}", "\"\\x\"", String(repeating: "[", count: 100) + String(repeating: "]", count: 100)]
        for text in malformed {
            #expect(throws: JSONReader.Failure.self, "\(text.debugDescription)") { try JSONReader.parse(text) }
        }
        #expect(throws: JSONReader.Failure.self) { try JSONReader.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func storedShapesOnlyAnythingElseFallsBack() {
        #expect(MessageContent(storageJSON: Array(#"{"from":{"email":"a@b.co"},"to":[],"subject":"s","extra":1}"#.utf8)) == nil)
        #expect(MessageContent(storageJSON: Array(#"{"from":{"email":"a@b.co","nmae":"x"},"to":[]}"#.utf8)) == nil)
        #expect(MessageContent(storageJSON: Array(#"{"to":[]}"#.utf8)) == nil)
        #expect(MessageContent(storageJSON: Array(#"{"from":{"email":"a@b.co"},"to":[],"subject":5}"#.utf8)) == nil)
        #expect(MessageContent(storageJSON: Array(#"{"from":{"email":"a@b.co"},"to":[],"subject":"s"}"#.utf8))?.subject == "s")
    }
}
