import Foundation

extension Campaign {
    /// Whether it runs an A/B test.
    public var isABTest: Bool { abTest != nil && !variants.isEmpty }

    /// The key under which variant `index`'s template is handed to `SubmissionPlan`: the
    /// plan renders by template id, and a chunk may hold every variant.
    public static func variantTemplateKey(_ index: Int) -> UUID {
        UUID(uuid: (0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, UInt8(index)))
    }

    /// Each variant's template, by `variantTemplateKey`, for `SubmissionPlan`.
    public var variantTemplates: [UUID: MessageTemplate] {
        var out: [UUID: MessageTemplate] = [:]
        for (index, variant) in variants.enumerated() { out[Self.variantTemplateKey(index)] = variant.template(over: template) }
        return out
    }

    /// One recipient's submission with variant `index`'s subject, content and sender (rendered
    /// from `variantTemplates`); the variant's name is in the metadata (`ab_variant`), so the
    /// tenant's webhooks say which one a recipient got.
    public func submission(for recipient: CampaignRecipient, variant index: Int, now: Date) -> MessageSubmission? {
        guard variants.indices.contains(index), var submission = submission(for: recipient, now: now) else { return nil }
        if let from = variants[index].from { submission.content.from = from }
        submission.content.metadata["ab_variant"] = variants[index].name
        submission.templateID = Self.variantTemplateKey(index)
        return submission
    }
}
