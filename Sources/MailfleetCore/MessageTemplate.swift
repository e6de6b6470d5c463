import Foundation
import Mustache

/// One version of a stored template: a subject, a text part and/or an HTML part, each a
/// Mustache template. Variables are HTML-escaped in the HTML part (`{{{raw}}}` opts out) and
/// inserted as they are in the subject and text part.
public struct MessageTemplate: Sendable, Hashable {
    /// The subject template.
    public var subject: String
    /// The text part template.
    public var text: String?
    /// The HTML part template.
    public var html: String?

    /// Creates a template.
    public init(subject: String, text: String?, html: String?) {
        self.subject = subject
        self.text = text
        self.html = html
    }

    /// Largest part (subject, text or html) a template may have: 256 KB, well above what mail
    /// clients show unclipped, and a bound on what one loop iteration can add.
    public static let maxPartBytes = 256 * 1024

    /// Most list items one part may iterate over in total, nested loops included. Without it,
    /// loops nested inside each other over one list cost the list's size to the power of the
    /// depth: a single request could occupy the API for hours.
    public static let maxLoopIterations = 1000

    /// Checks that every part parses and sizes are sane; returns the problems with field names.
    public func validate() -> [FieldError] {
        var errors: [FieldError] = []
        if subject.isEmpty { errors.append(.init(code: "missing_subject", field: "subject", message: "subject must not be empty")) }
        if (text ?? "").isEmpty && (html ?? "").isEmpty {
            errors.append(.init(code: "missing_body", field: "text", message: "text or html is required"))
        }
        for (field, source) in [("subject", subject), ("text", text ?? ""), ("html", html ?? "")] {
            if source.utf8.count > MessageTemplate.maxPartBytes {
                errors.append(.init(code: "too_large", field: field, message: "\(field) is longer than \(MessageTemplate.maxPartBytes) bytes"))
            } else if source.utf8.contains(0) {
                errors.append(.init(code: "invalid_value", field: field, message: "\(field) must not contain NUL"))
            } else if let problem = MessageTemplate.structureError(source) ?? MessageTemplate.parseError(source) {
                errors.append(.init(code: "invalid_template", field: field, message: problem))
            }
        }
        return errors
    }

    /// The variable holding each recipient's one-click unsubscribe link.
    public static let unsubscribeVariable = "unsubscribe_url"

    /// Renders every part with `variables` (a JSON object; anything else renders as empty).
    /// `{{unsubscribe_url}}` becomes a placeholder the worker fills with each recipient's signed
    /// link, so a caller's own value for it never replaces the real one.
    public func render(variables: JSONValue) throws(TemplateError) -> RenderedTemplate {
        try compiled().render(variables: variables)
    }

    /// The parts parsed, to render many messages without parsing them again for each.
    public func compiled() throws(TemplateError) -> CompiledTemplate {
        CompiledTemplate(
            subject: try MessageTemplate.parse(subject, asHTML: false, field: "subject"),
            text: try text.map { source throws(TemplateError) in try MessageTemplate.parse(source, asHTML: false, field: "text") },
            html: try html.map { source throws(TemplateError) in try MessageTemplate.parse(source, asHTML: true, field: "html") })
    }

    /// Deepest section nesting a template may have. The parser recurses per level, so an
    /// unbounded depth would let one stored template exhaust a thread's stack.
    public static let maxSectionDepth = 32

    /// Refuses what the recursive parser should never see: custom delimiters (which would hide
    /// sections from this scan) and sections nested deeper than `maxSectionDepth`.
    static func structureError(_ source: String) -> String? {
        if source.contains("{{=") { return "custom delimiters ({{=...=}}) are not supported" }
        var depth = 0
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            rest = rest[open.upperBound...]
            switch rest.first {
            case "#", "^", "$", "<":
                depth += 1
                if depth > maxSectionDepth { return "sections are nested deeper than \(maxSectionDepth) levels" }
            case "/":
                depth = max(0, depth - 1)
            default:
                break
            }
        }
        return nil
    }

    private static func parseError(_ source: String) -> String? {
        do {
            _ = try MustacheTemplate(string: source)
            return nil
        } catch {
            return "the template does not parse: \(error)"
        }
    }

    private static func parse(_ source: String, asHTML: Bool, field: String) throws(TemplateError) -> MustacheTemplate {
        if let problem = structureError(source) { throw TemplateError(field: field, message: problem) }
        // The pragma picks the escaping: HTML escapes {{x}}, TEXT leaves values as they are.
        // It stands on a line of its own, which Mustache drops: glued to the part, a leading
        // combining mark (an emoji skin tone) would join its closing brace into one Character.
        let pragma = asHTML ? "{{%CONTENT_TYPE: HTML}}\n" : "{{%CONTENT_TYPE: TEXT}}\n"
        do {
            return try MustacheTemplate(string: pragma + source)
        } catch {
            throw TemplateError(field: field, message: "the template does not parse: \(error)")
        }
    }

    /// Renders one parsed part, within the loop budget.
    static func render(_ template: MustacheTemplate, variables: JSONValue, field: String) throws(TemplateError) -> String {
        let budget = LoopBudget(remaining: maxLoopIterations)
        let output = template.render(budget.context(for: variables))
        if budget.exhausted {
            throw TemplateError(field: field, message: "the template iterates over more than \(maxLoopIterations) list items in all")
        }
        return output
    }
}

/// A template rendered with one message's variables.
public struct RenderedTemplate: Sendable, Hashable {
    /// The subject.
    public var subject: String
    /// The text part.
    public var text: String?
    /// The HTML part.
    public var html: String?
}

/// Why a template could not be rendered.
public struct TemplateError: Error, Sendable, Equatable {
    /// The part that failed: subject, text or html.
    public var field: String
    /// What went wrong.
    public var message: String
}
