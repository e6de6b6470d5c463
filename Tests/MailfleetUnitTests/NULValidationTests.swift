import Foundation
@testable import MailfleetCore
import Testing

@Suite struct NULValidationTests {
    @Test func nulCharactersInBodiesAndMetadataAreRefused() throws {
        var content = MessageContent(from: try EmailAddress(email: "a@example.com"), to: [try EmailAddress(email: "b@example.com")], subject: "s", text: "bad\u{0}text")
        content.metadata = ["k": "v\u{0}"]
        content.tags = ["ok", "b\u{0}d"]
        let fields = MessageSubmission(content: content).validate().map(\.field)
        #expect(fields == ["text", "metadata.k", "tags[1]"])
    }
}
