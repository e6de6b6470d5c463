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

@Suite struct MessageTemplateTests {
    let template = MessageTemplate(
        subject: "Hello {{name}}",
        text: "Dear {{name}},{{#items}} [{{title}} x{{count}}]{{/items}}{{^items}} nothing{{/items}}{{#vip}} VIP{{/vip}}",
        html: "<p>{{name}}</p><ul>{{#items}}<li>{{title}}</li>{{/items}}</ul>{{{trusted}}}")

    @Test func rendersVariablesSectionsAndLoops() throws {
        let rendered = try template.render(variables: .object([
            "name": .string("Ada & <Bob>"), "vip": .bool(true), "trusted": .string("<hr>"),
            "items": .array([.object(["title": .string("Tea"), "count": .number(2)]), .object(["title": .string("Cake"), "count": .number(1.5)])]),
        ]))
        #expect(rendered.subject == "Hello Ada & <Bob>")
        #expect(rendered.text == "Dear Ada & <Bob>, [Tea x2] [Cake x1.5] VIP")
        // HTML part: escaped by default, triple braces opt out.
        #expect(rendered.html == "<p>Ada &amp; &lt;Bob&gt;</p><ul><li>Tea</li><li>Cake</li></ul><hr>")
    }

    @Test func missingVariablesRenderEmptyAndInvertedSectionsShow() throws {
        let rendered = try template.render(variables: .object([:]))
        #expect(rendered.subject == "Hello ")
        #expect(rendered.text == "Dear , nothing")
    }

    @Test func partsStartingWithACombiningMarkOrALineBreakRenderAsWritten() throws {
        let template = MessageTemplate(subject: "\u{1F3FB}{{name}}", text: "\u{301}t\n", html: "\r\n<p>{{name}}</p>")
        let rendered = try template.render(variables: .object(["name": .string("Ada")]))
        #expect(rendered.subject == "\u{1F3FB}Ada")
        #expect(rendered.text == "\u{301}t\n")
        #expect(rendered.html == "\r\n<p>Ada</p>")
    }

    @Test func validationNamesTheBrokenPart() {
        #expect(MessageTemplate(subject: "ok", text: "{{#open}} never closed", html: nil).validate().map(\.field) == ["text"])
        #expect(MessageTemplate(subject: "", text: nil, html: nil).validate().map(\.code) == ["missing_subject", "missing_body"])
        #expect(template.validate().isEmpty)
    }

    @Test func nestedLoopsCannotMultiplyWithoutBound() throws {
        let list = JSONValue.array((0..<100).map { .number(Double($0)) })
        let nested = MessageTemplate(subject: "s", text: "{{#a}}{{#a}}{{#a}}{{#a}}x{{/a}}{{/a}}{{/a}}{{/a}}", html: nil)
        #expect(throws: TemplateError.self) { try nested.render(variables: .object(["a": list])) }
        // Up to the budget, loops render in full, and empty lists still count as false.
        let single = MessageTemplate(subject: "s", text: "{{#a}}{{.}},{{/a}}{{^b}}none{{/b}}", html: nil)
        let text = try single.render(variables: .object(["a": list, "b": .array([])])).text
        #expect(text == (0..<100).map { "\($0)," }.joined() + "none")
    }

    @Test func deepNestingAndCustomDelimitersAreRefusedBeforeParsing() throws {
        let deep = String(repeating: "{{#a}}", count: 100_000) + String(repeating: "{{/a}}", count: 100_000)
        #expect(MessageTemplate(subject: "s", text: nil, html: deep).validate().map(\.field) == ["html"])
        #expect(throws: TemplateError.self) { try MessageTemplate(subject: "s", text: deep, html: nil).render(variables: .object([:])) }
        let fine = String(repeating: "{{#a}}", count: 32) + "x" + String(repeating: "{{/a}}", count: 32)
        #expect(MessageTemplate(subject: "s", text: fine, html: nil).validate().isEmpty)
        #expect(MessageTemplate(subject: "s", text: "{{=<% %>=}}<%#a%>", html: nil).validate().map(\.code) == ["invalid_template"])
    }
}
