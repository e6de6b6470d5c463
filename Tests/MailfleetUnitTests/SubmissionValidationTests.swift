import Foundation
@testable import MailfleetCore
import Testing

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
