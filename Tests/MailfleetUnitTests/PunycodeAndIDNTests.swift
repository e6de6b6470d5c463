import Foundation
import MailfleetCore
import Testing

@Suite struct PunycodeAndIDNTests {
    @Test(arguments: [("bücher", "bcher-kva"), ("mañana", "maana-pta"), ("münchen", "mnchen-3ya"), ("例え", "r8jz45g"), ("テスト", "zckzah")])
    func encodesRFC3492Vectors(_ input: String, _ expected: String) {
        #expect(Punycode.encode(input) == expected)
    }

    @Test func internationalDomainsAreStoredInASCIIForm() throws {
        #expect(try EmailAddress(parsing: "user@bücher.de").email == "user@xn--bcher-kva.de")
        #expect(try EmailAddress(parsing: "Ada <ada@例え.テスト>").email == "ada@xn--r8jz45g.xn--zckzah")
        // Upper case and decomposed forms of a label normalise to one ASCII form.
        #expect(try EmailAddress(email: "u@BU\u{0308}CHER.de").email == "u@xn--bcher-kva.de")
        // ASCII domains and UTF-8 local parts (SMTPUTF8) are kept as given.
        #expect(try EmailAddress(email: "Ünïcode@Example.COM").email == "Ünïcode@Example.COM")
    }

    @Test func labelsTooLongInASCIIFormAreRefused() {
        let label = String(repeating: "ü", count: 60)
        #expect(throws: AddressError.self) { try EmailAddress(email: "a@\(label).de") }
    }
}
