import Foundation
import MailfleetCore
import Testing

/// The parse-without-Decodable path must never disagree with the Decodable path: whatever it
/// accepts, Decodable accepts with the same values; whatever it refuses goes to Decodable.
@Suite struct PlainSubmissionTests {
    /// Pieces of submissions, valid and not, to combine at random.
    static let fieldChoices: [(String, [String])] = [
        ("from", [#""Sender <s@example.com>""#, #""s@example.com""#, #"{"email":"s@example.com","name":"S"}"#, #"{"email":"s@example.com"}"#,
                  #""bad address""#, #"{"email":"s@example.com","nmae":"x"}"#, "null", "5", #""\"Q, N\" <q@example.com>""#, #""ü@bücher.de""#]),
        ("to", [#"["a@example.com"]"#, #"["A <a@example.com>", {"email":"b@example.com"}]"#, "[]", #"["nope"]"#, #""a@example.com""#, "null"]),
        ("cc", [#"["c@example.com"]"#, "[]", "null", #"[1]"#]),
        ("bcc", [#"["d@example.com"]"#, "{}"]),
        ("reply_to", [#""r@example.com""#, "null", #"{"email":"r@example.com","name":null}"#]),
        ("subject", [#""Hello""#, #""é \" \\ \n""#, #""""#, "null", "7"]),
        ("text", [#""body""#, "null", #""\u0000""#, "true"]),
        ("html", [#""<p>x</p>""#, #""\ud83c\udf89""#, "[]"]),
        ("headers", [#"{"X-A":"1"}"#, #"{"X-A":1}"#, "{}", "null"]),
        ("metadata", [#"{"n":"1","m":"2"}"#, #"{"n":1}"#, "[]"]),
        ("tags", [#"["a","b"]"#, #"["a",1]"#, "[]", #""a""#]),
        ("track_opens", ["true", "false", #""yes""#]),
        ("track_clicks", ["true", "null"]),
        ("priority", [#""bulk""#, #""transactional""#, #""urgent""#]),
        ("send_at", [#""2030-01-01T00:00:00Z""#, #""2030-01-01T00:00:00.250+02:00""#, #""tomorrow""#, "0"]),
        ("template_id", [#""00000000-0000-0000-0000-000000000001""#]),
        ("attachments", [#"[{"filename":"a.txt","content":"aGk="}]"#]),
        ("nonsense", ["1"]),
    ]

    func randomMessage(_ rng: inout some RandomNumberGenerator) -> String {
        var parts: [String] = []
        for (name, values) in Self.fieldChoices {
            let include = name == "from" || name == "to" || name == "subject" || name == "text" ? Int.random(in: 0..<10, using: &rng) > 0 : Int.random(in: 0..<4, using: &rng) == 0
            if include { parts.append("\"\(name)\":\(values.randomElement(using: &rng)!)") }
        }
        return "{" + parts.shuffled(using: &rng).joined(separator: ",") + "}"
    }

    func same(_ a: MessageSubmission, _ b: MessageSubmission) -> Bool {
        a.content == b.content && a.priority == b.priority && a.sendAt == b.sendAt && a.templateID == b.templateID && a.variables == b.variables
    }

    @Test func agreesWithDecodableOnRandomBodies() throws {
        var rng = SystemRandomNumberGenerator()
        var plainAccepted = 0
        for round in 0..<4_000 {
            let body: String
            if round % 3 == 0 {
                body = "{\"messages\":[" + (0..<Int.random(in: 0...4, using: &rng)).map { _ in randomMessage(&rng) }.joined(separator: ",") + "]}"
            } else {
                body = randomMessage(&rng)
            }
            let data = Data(body.utf8)
            guard let plain = SubmissionBody.plain(data) else { continue }
            plainAccepted += 1
            let decoded = try JSONDecoder().decode(SubmissionBody.self, from: data)
            switch (plain, decoded) {
            case (.single(let p), .single(let d)):
                #expect(same(try p.result.get(), try d.result.get()), "\(body)")
            case (.batch(let p), .batch(let d)):
                #expect(p.count == d.count, "\(body)")
                for (x, y) in zip(p, d) { #expect(same(try x.result.get(), try y.result.get()), "\(body)") }
            default:
                Issue.record("shapes differ for \(body)")
            }
        }
        #expect(plainAccepted > 200)
    }

    @Test func theBenchmarkAndTypicalBodiesTakeThePlainPath() {
        let single = #"{"from":"Shop <shop@example.com>","to":["alice@example.com"],"subject":"Your receipt","text":"Thanks","html":"<p>Thanks</p>","metadata":{"order":"42"},"track_opens":true}"#
        #expect(SubmissionBody.plain(Data(single.utf8)) != nil)
        let batch = "{\"messages\":[" + (0..<3).map { _ in single }.joined(separator: ",") + "]}"
        #expect(SubmissionBody.plain(Data(batch.utf8)) != nil)
        #expect(SubmissionBody.plain(Data(#"{"messages":[],"extra":1}"#.utf8)) == nil)
        #expect(SubmissionBody.plain(Data("not json".utf8)) == nil)
    }
}
