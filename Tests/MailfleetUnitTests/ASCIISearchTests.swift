import Foundation
import MailfleetCore
import Testing

@Suite struct ASCIISearchTests {
    @Test func findsTheLastBodyCloseIgnoringCaseAroundMultiByteText() throws {
        let html = "<p>Grüße — 日本</p></BODY><p>after</p></Body>tail"
        let index = try #require(ASCIISearch.lastIndexIgnoringCase(of: "</body>", in: html))
        #expect(html[index...] == "</Body>tail")
        #expect(ASCIISearch.lastIndexIgnoringCase(of: "</body>", in: "<p>none</p>") == nil)
        #expect(ASCIISearch.lastIndexIgnoringCase(of: "</body>", in: "</bod") == nil)
    }

    @Test func replacesEveryMatchAndLeavesTextWithoutOneAsItIs() {
        #expect(ASCIISearch.replacingAll("[[mf:open]]", with: "https://t/o/x.gif", in: "a[[mf:open]]é[[mf:open]]") == "ahttps://t/o/x.gifé" + "https://t/o/x.gif")
        #expect(ASCIISearch.replacingAll("&amp;", with: "&", in: "a=1&amp;b=2&amp;&amp;") == "a=1&b=2&&")
        #expect(ASCIISearch.replacingAll("x", with: "y", in: "") == "")
        #expect(ASCIISearch.replacingAll("zz", with: "y", in: "z") == "z")
        #expect(ASCIISearch.contains("[[mf:unsubscribe]]", in: "<a href=\"[[mf:unsubscribe]]\">"))
        #expect(!ASCIISearch.contains("[[mf:unsubscribe]]", in: "[[mf:unsubscribe]"))
    }

    @Test func agreesWithFoundationOnRandomText() {
        // Foundation's NSString searches are the reference the byte searches replaced.
        var rng = SystemRandomNumberGenerator()
        let pieces = ["a", "B", "</body>", "</BoDy>", "href=", "HREF=", "é", "日", "&amp;", "<", "/", " "]
        for _ in 0..<500 {
            let text = (0..<Int.random(in: 0...20, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
            let theirs = text.range(of: "</body>", options: [.caseInsensitive, .backwards])?.lowerBound
            #expect(ASCIISearch.lastIndexIgnoringCase(of: "</body>", in: text) == theirs, "\(text)")
            #expect(ASCIISearch.replacingAll("&amp;", with: "&", in: text) == text.replacingOccurrences(of: "&amp;", with: "&"), "\(text)")
            var copy = text
            let first = copy.withUTF8 { ASCIISearch.firstOffset(of: "href=", in: $0, caseInsensitive: true) }
            let expected = text.range(of: "href=", options: .caseInsensitive).map { text.utf8.distance(from: text.utf8.startIndex, to: $0.lowerBound) }
            #expect(first == expected, "\(text)")
        }
    }
}
