import Foundation
import MailfleetCore
import Testing

@Suite struct HeaderFieldValidationTests {
    func submission(_ json: String) throws -> MessageSubmission {
        try JSONDecoder().decode(MessageSubmission.self, from: Data(json.utf8))
    }

    func problems(_ json: String) throws -> [FieldError] {
        try submission(json).validate()
    }

    @Test func headerBoundFieldsRefuseLineBreaksAndNUL() throws {
        let base = #""from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t""#
        #expect(try problems("{\(base),\"metadata\":{\"k\":\"v\\r\\nBcc: x@evil.com\"}}").map(\.field) == ["metadata.k"])
        #expect(try problems("{\(base),\"metadata\":{\"k\\n\":\"v\"}}").map(\.code) == ["invalid_header_value"])
        #expect(try problems("{\(base),\"tags\":[\"ok\",\"bad\\u0000\"]}").map(\.field) == ["tags[1]"])
        #expect(try problems("{\(base),\"headers\":{\"X-A\":\"1\\r\\n2\"}}").map(\.field) == ["headers.X-A"])
        #expect(try problems(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"a\u0000b"}"#).map(\.field) == ["text"])
        #expect(try problems(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","html":"a\u0000b"}"#).map(\.field) == ["html"])
        // Display names and reply-to go into headers too: refused while decoding.
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":[{"email":"b@example.com","name":"B\r\nBcc: x@evil.com"}],"subject":"s","text":"t"}"#) }
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":["b@example.com"],"reply_to":"r@example.com\nBcc: x@evil.com","subject":"s","text":"t"}"#) }
        #expect(try problems("{\(base)}").isEmpty)
    }

    @Test func unknownFieldsInNestedAddressesAreRefused() throws {
        do {
            _ = try submission(#"{"from":{"email":"a@example.com","nmae":"A"},"to":["b@example.com"],"subject":"s","text":"t"}"#)
            Issue.record("an unknown nested field was accepted")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.debugDescription == "unknown field nmae")
            #expect(context.codingPath.map(\.stringValue) == ["from", "nmae"])
        }
    }

    @Test func templateReferencesExcludeInlineContent() throws {
        let id = UUID().uuidString
        let byTemplate = try submission(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","variables":{"name":"Ada"}}"#)
        #expect(byTemplate.templateID == UUID(uuidString: id))
        #expect(byTemplate.variables == .object(["name": .string("Ada")]))
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","subject":"s"}"#) }
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"nope"}"#) }
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","variables":[1]}"#) }
        #expect(throws: DecodingError.self) { try submission(#"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","variables":{}}"#) }
        // Without a template, a missing subject is a validation error naming the field.
        #expect(try problems(#"{"from":"a@example.com","to":["b@example.com"],"text":"t"}"#).map(\.field) == ["subject"])
    }
}
