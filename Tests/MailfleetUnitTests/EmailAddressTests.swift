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

@Suite struct SubmissionValidationTests {
    func submission(_ edit: (inout MessageContent) -> Void = { _ in }) throws -> MessageSubmission {
        var content = MessageContent(from: try EmailAddress(email: "from@example.com"), to: [try EmailAddress(email: "to@example.com")], subject: "Hi", text: "Hello")
        edit(&content)
        return MessageSubmission(content: content)
    }

    @Test func aGoodMessageHasNoErrors() throws {
        #expect(try submission().validate().isEmpty)
    }

    @Test func headerInjectionIsRefused() throws {
        let errors = try submission { $0.headers["X-Campaign"] = "a\r\nBcc: victim@example.com" }.validate()
        #expect(errors.map(\.code) == ["invalid_header_value"])
        #expect(errors.first?.field == "headers.X-Campaign")
        #expect(try submission { $0.subject = "Hi\nthere" }.validate().map(\.code) == ["invalid_header_value"])
    }

    @Test func reservedHeadersAreRefused() throws {
        let errors = try submission { $0.headers["From"] = "x@example.com"; $0.headers["message-id"] = "<x@y>" }.validate()
        #expect(errors.map(\.code) == ["reserved_header", "reserved_header"])
    }

    @Test func bodyAndSubjectAreRequired() throws {
        #expect(try submission { $0.text = nil }.validate().map(\.code) == ["missing_body"])
        #expect(try submission { $0.subject = "" }.validate().map(\.code) == ["missing_subject"])
        #expect(try submission { $0.to = [] }.validate().map(\.code) == ["missing_recipient"])
    }

    @Test func sizeLimitsApply() throws {
        var limits = MessageLimits()
        limits.maxMessageBytes = 100
        #expect(try submission { $0.text = String(repeating: "x", count: 200) }.validate(limits: limits).map(\.code) == ["too_large"])
    }
}

@Suite struct NULValidationTests {
    @Test func nulCharactersInBodiesAndMetadataAreRefused() throws {
        var content = MessageContent(from: try EmailAddress(email: "a@example.com"), to: [try EmailAddress(email: "b@example.com")], subject: "s", text: "bad\u{0}text")
        content.metadata = ["k": "v\u{0}"]
        content.tags = ["ok", "b\u{0}d"]
        let fields = MessageSubmission(content: content).validate().map(\.field)
        #expect(fields == ["text", "metadata.k", "tags[1]"])
    }
}
