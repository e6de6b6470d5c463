import Foundation
@testable import MailfleetCore
import Testing

@Suite struct EmailAddressTests {
    @Test(arguments: ["a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.org", "x@xn--bcher-kva.de"])
    func acceptsValidAddresses(_ text: String) throws {
        let address = try EmailAddress(parsing: text)
        #expect(address.email == text)
        #expect(address.name == nil)
    }

    @Test(arguments: ["", "plain", "@example.com", "a@", "a@localhost", "a..b@example.com", ".a@example.com", "a@-example.com",
                      "a@exa mple.com", "a b@example.com", "a@example..com", "a@example.com\r\nBcc: x@evil.com"])
    func rejectsInvalidAddresses(_ text: String) {
        #expect(throws: AddressError.self) { try EmailAddress(parsing: text) }
    }

    /// The byte-level fast path accepts only what the full check accepts, unchanged, and
    /// takes the common addresses.
    @Test func theFastPathAgreesWithTheFullCheck() {
        let alphabet = Array("ab.@-_+'\"x1 Z.@é\u{0}\r-..".unicodeScalars)
        var rng = SystemRandomNumberGenerator()
        var accepted = 0
        for _ in 0..<20_000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...14, using: &rng) { text.unicodeScalars.append(alphabet.randomElement(using: &rng)!) }
            if Bool.random(using: &rng) { text += "@b.co" }
            guard EmailAddress.isPlainASCIIAddress(text) else { continue }
            accepted += 1
            #expect(throws: Never.self, "\(text.debugDescription)") { try EmailAddress.validate(addrSpec: text) }
            #expect((try? EmailAddress.asciiDomainForm(text)) == text)
        }
        #expect(accepted > 100)
        for common in ["a@example.com", "first.last+tag@sub.example.co.uk", "o'brien@example.org", "x@xn--bcher-kva.de", "user123@a-b.c-d.io"] {
            #expect(EmailAddress.isPlainASCIIAddress(common), "\(common)")
        }
        for special in ["\"quoted\"@example.com", "ü@example.com", "a@bücher.de", "a@example", "a.@example.com", "a@-x.com", "a@x-.com",
                        String(repeating: "a", count: 65) + "@example.com", "a@" + String(repeating: "b", count: 64) + ".com"] {
            #expect(!EmailAddress.isPlainASCIIAddress(special), "\(special)")
        }
    }

    @Test func parsesDisplayNames() throws {
        let plain = try EmailAddress(parsing: "Alice Example <alice@example.com>")
        #expect(plain.name == "Alice Example")
        #expect(plain.email == "alice@example.com")
        let quoted = try EmailAddress(parsing: "\"Example, Alice\" <alice@example.com>")
        #expect(quoted.name == "Example, Alice")
        #expect(plain.domain == "example.com")
    }

    @Test func decodesStringsAndObjects() throws {
        let json = #"[{"email":"a@example.com","name":"A"},"B <b@example.com>"]"#
        let list = try JSONDecoder().decode([EmailAddress].self, from: Data(json.utf8))
        #expect(list.map(\.email) == ["a@example.com", "b@example.com"])
        #expect(list.map(\.name) == ["A", "B"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([EmailAddress].self, from: Data(#"["nope"]"#.utf8)) }
    }
}
