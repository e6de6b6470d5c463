import Foundation

/// One step of a drip sequence: after `delaySeconds` (counted from entry for the first step,
/// from the previous step otherwise) the contact is sent `template` rendered with its
/// attributes, if `condition` (when there is one) holds; otherwise the step is skipped.
public struct SequenceStep: Sendable, Hashable {
    /// The wait before the step, in seconds.
    public var delaySeconds: Int
    /// The stored template its parts were copied from, if any.
    public var templateID: UUID?
    /// That template's version.
    public var templateVersion: Int?
    /// What the step's message is rendered from (the template's parts, copied when the
    /// sequence was made, so editing the template later changes nothing under way).
    public var template: MessageTemplate
    /// The sender of this step's message; nil: the sequence's.
    public var from: EmailAddress?
    /// When the step is sent; nil: always.
    public var condition: SequenceCondition?

    /// Creates a step.
    public init(
        delaySeconds: Int, template: MessageTemplate, templateID: UUID? = nil, templateVersion: Int? = nil, from: EmailAddress? = nil,
        condition: SequenceCondition? = nil
    ) {
        self.delaySeconds = delaySeconds
        self.templateID = templateID
        self.templateVersion = templateVersion
        self.template = template
        self.from = from
        self.condition = condition
    }

    /// The longest delay a step may have: a year.
    public static let maxDelaySeconds = 366 * 86_400
}

extension SequenceStep: Codable {
    enum CodingKeys: String, CodingKey {
        case subject, text, html, from, condition
        case delaySeconds = "delay_seconds"
        case templateID = "template_id"
        case templateVersion = "template_version"
    }

    /// Reads a step; a template id with no subject, text or html is resolved by the caller.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["delay_seconds", "template_id", "template_version", "subject", "text", "html", "from", "condition"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        delaySeconds = try c.decode(Int.self, forKey: .delaySeconds)
        if delaySeconds < 0 || delaySeconds > Self.maxDelaySeconds {
            throw DecodingError.dataCorruptedError(forKey: .delaySeconds, in: c, debugDescription: "delay_seconds must be 0 to \(Self.maxDelaySeconds)")
        }
        if let text = try c.decodeIfPresent(String.self, forKey: .templateID) {
            guard let id = UUID(uuidString: text) else {
                throw DecodingError.dataCorruptedError(forKey: .templateID, in: c, debugDescription: "template_id must be a template id (a UUID)")
            }
            templateID = id
        }
        templateVersion = try c.decodeIfPresent(Int.self, forKey: .templateVersion)
        if let templateVersion, templateVersion < 1 || templateVersion > Int(Int32.max) {
            throw DecodingError.dataCorruptedError(forKey: .templateVersion, in: c, debugDescription: "template_version must be a positive integer")
        }
        if templateVersion != nil, templateID == nil {
            throw DecodingError.dataCorruptedError(forKey: .templateVersion, in: c, debugDescription: "template_version needs a template_id")
        }
        template = MessageTemplate(
            subject: try c.decodeIfPresent(String.self, forKey: .subject) ?? "", text: try c.decodeIfPresent(String.self, forKey: .text),
            html: try c.decodeIfPresent(String.self, forKey: .html))
        from = try c.decodeIfPresent(EmailAddress.self, forKey: .from)
        condition = try c.decodeIfPresent(SequenceCondition.self, forKey: .condition)
    }

    /// Writes the step as it is stored and shown.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(delaySeconds, forKey: .delaySeconds)
        try c.encodeIfPresent(templateID?.lowercasedString, forKey: .templateID)
        try c.encodeIfPresent(templateVersion, forKey: .templateVersion)
        try c.encode(template.subject, forKey: .subject)
        try c.encodeIfPresent(template.text, forKey: .text)
        try c.encodeIfPresent(template.html, forKey: .html)
        try c.encodeIfPresent(from, forKey: .from)
        try c.encodeIfPresent(condition, forKey: .condition)
    }
}
