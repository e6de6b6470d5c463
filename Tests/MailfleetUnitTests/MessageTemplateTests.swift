import Foundation
import MailfleetCore
import Testing

@Suite struct MessageTemplateTests {
    let template = MessageTemplate(
        subject: "Hello {{name}}",
        text: "Dear {{name}},{{#items}} [{{title}} x{{count}}]{{/items}}{{^items}} nothing{{/items}}{{#vip}} VIP{{/vip}}",
        html: "<p>{{name}}</p><ul>{{#items}}<li>{{title}}</li>{{/items}}</ul>{{{trusted}}}")

    /// Parsed once, rendered for many: the same output as a render from the source each time.
    @Test func aCompiledTemplateRendersEachRecipientAsARenderFromTheSourceDoes() throws {
        let template = MessageTemplate(subject: "Hi {{name}}", text: "{{#items}}{{.}};{{/items}} {{unsubscribe_url}}", html: "<p>{{name}}</p>")
        let compiled = try template.compiled()
        for name in ["Ada", "<Bob & Co>", ""] {
            let variables = JSONValue.object(["name": .string(name), "items": .array([.string("a"), .number(2)])])
            #expect(try compiled.render(variables: variables) == template.render(variables: variables))
        }
        #expect(throws: TemplateError.self) { try MessageTemplate(subject: "s", text: "{{#open}}", html: nil).compiled() }
    }

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
