/// What a message says and to whom: everything a provider needs, and nothing about its delivery
/// state. Stored in Postgres as JSON and rendered by the worker.
public struct MessageContent: Sendable, Hashable, Codable {
    /// The sender.
    public var from: EmailAddress
    /// Primary recipients (they see each other, as in any email).
    public var to: [EmailAddress]
    /// Carbon-copy recipients.
    public var cc: [EmailAddress]
    /// Blind carbon-copy recipients.
    public var bcc: [EmailAddress]
    /// Where replies go, if not to `from`.
    public var replyTo: EmailAddress?
    /// The subject line.
    public var subject: String
    /// The plain-text body.
    public var text: String?
    /// The HTML body.
    public var html: String?
    /// Extra headers (never reserved ones such as From or Subject).
    public var headers: [String: String]
    /// Caller metadata, echoed in events and webhooks.
    public var metadata: [String: String]
    /// Tags for grouping in reports.
    public var tags: [String]
    /// Whether to add an open-tracking pixel to the HTML part.
    public var trackOpens: Bool
    /// Whether to rewrite HTML links through the click tracker.
    public var trackClicks: Bool
    /// Files attached to the message.
    public var attachments: [MessageAttachment]

    /// Creates message content.
    public init(
        from: EmailAddress, to: [EmailAddress], cc: [EmailAddress] = [], bcc: [EmailAddress] = [],
        replyTo: EmailAddress? = nil, subject: String, text: String? = nil, html: String? = nil,
        headers: [String: String] = [:], metadata: [String: String] = [:], tags: [String] = [],
        trackOpens: Bool = false, trackClicks: Bool = false, attachments: [MessageAttachment] = []
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.replyTo = replyTo
        self.subject = subject
        self.text = text
        self.html = html
        self.headers = headers
        self.metadata = metadata
        self.tags = tags
        self.trackOpens = trackOpens
        self.trackClicks = trackClicks
        self.attachments = attachments
    }

    /// Every envelope recipient: to, cc and bcc.
    public var allRecipients: [EmailAddress] { to + cc + bcc }

    enum CodingKeys: String, CodingKey {
        case from, to, cc, bcc, subject, text, html, headers, metadata, tags, attachments
        case replyTo = "reply_to"
        case trackOpens = "track_opens"
        case trackClicks = "track_clicks"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = try c.decode(EmailAddress.self, forKey: .from)
        to = try c.decode([EmailAddress].self, forKey: .to)
        cc = try c.decodeIfPresent([EmailAddress].self, forKey: .cc) ?? []
        bcc = try c.decodeIfPresent([EmailAddress].self, forKey: .bcc) ?? []
        replyTo = try c.decodeIfPresent(EmailAddress.self, forKey: .replyTo)
        subject = try c.decodeIfPresent(String.self, forKey: .subject) ?? ""
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        headers = try c.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? [:]
        tags = try c.decodeIfPresent([String].self, forKey: .tags) ?? []
        trackOpens = try c.decodeIfPresent(Bool.self, forKey: .trackOpens) ?? false
        trackClicks = try c.decodeIfPresent(Bool.self, forKey: .trackClicks) ?? false
        attachments = try c.decodeIfPresent([MessageAttachment].self, forKey: .attachments) ?? []
    }
}
