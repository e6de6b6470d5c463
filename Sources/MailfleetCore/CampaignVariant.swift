import Foundation

/// One variant of an A/B-tested campaign: what it changes of the campaign's message. A field
/// left nil keeps the campaign's; giving `text` or `html` replaces the content (both parts).
public struct CampaignVariant: Sendable, Hashable, Codable {
    /// Its name in reports (`A`, `B`, … unless given).
    public var name: String
    /// Its subject (Mustache).
    public var subject: String?
    /// Its text part (Mustache).
    public var text: String?
    /// Its HTML part (Mustache).
    public var html: String?
    /// Its sender.
    public var from: EmailAddress?

    enum CodingKeys: String, CodingKey { case name, subject, text, html, from }

    /// Reads a variant as the API and CLI give it: every field optional, unknown ones refused.
    /// A variant without a name gets an empty one, which `named()` replaces by its letter.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["name", "subject", "text", "html", "from"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name) ?? ""
        subject = try c.decodeIfPresent(String.self, forKey: .subject)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        from = try c.decodeIfPresent(EmailAddress.self, forKey: .from)
    }

    /// Writes the sender as the API writes addresses (`Name <a@example.com>`), which decoding reads back.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encodeIfPresent(subject, forKey: .subject)
        try c.encodeIfPresent(text, forKey: .text)
        try c.encodeIfPresent(html, forKey: .html)
        try c.encodeIfPresent(from?.description, forKey: .from)
    }

    /// The fewest and most variants a campaign may test.
    public static let counts = 2...10

    /// Creates a variant.
    public init(name: String, subject: String? = nil, text: String? = nil, html: String? = nil, from: EmailAddress? = nil) {
        self.name = name
        self.subject = subject
        self.text = text
        self.html = html
        self.from = from
    }

    /// The default name of the variant at `index`: A, B, C …
    public static func defaultName(_ index: Int) -> String {
        String(UnicodeScalar(UInt8(65 + index % 26)))
    }

    /// `variants` with each one given no name named by its letter (A, B, …).
    public static func named(_ variants: [CampaignVariant]) -> [CampaignVariant] {
        variants.enumerated().map { index, variant in
            var named = variant
            if named.name.isEmpty { named.name = defaultName(index) }
            return named
        }
    }

    /// The campaign's template with this variant's changes.
    public func template(over base: MessageTemplate) -> MessageTemplate {
        var template = base
        if let subject { template.subject = subject }
        if text != nil || html != nil {
            template.text = text
            template.html = html
        }
        return template
    }

    /// Problems with a campaign's variants: their count, names (1–40 characters on one line,
    /// unique), and each one's template over `base` (`variants[i].…` fields).
    public static func validate(_ variants: [CampaignVariant], base: MessageTemplate) -> FieldError? {
        guard counts.contains(variants.count) else {
            return FieldError(code: "invalid_value", field: "variants", message: "an A/B test has \(counts.lowerBound) to \(counts.upperBound) variants")
        }
        var names = Set<String>()
        for (index, variant) in variants.enumerated() {
            let field = "variants[\(index)]"
            if variant.name.isEmpty || variant.name.unicodeScalars.count > 40 || variant.name.containsLineBreakOrNUL {
                return FieldError(code: "invalid_value", field: "\(field).name", message: "a variant's name is 1 to 40 characters on one line")
            }
            guard names.insert(variant.name).inserted else {
                return FieldError(code: "invalid_value", field: "\(field).name", message: "variant names must differ; \(variant.name) is given twice")
            }
            let template = variant.template(over: base)
            if let problem = template.validate().first {
                return FieldError(code: problem.code, field: "\(field).\(problem.field ?? "text")", message: problem.message)
            }
            if template.subject.containsLineBreakOrNUL {
                return FieldError(code: "invalid_header_value", field: "\(field).subject", message: "subject must not contain CR, LF or NUL")
            }
        }
        return nil
    }
}
