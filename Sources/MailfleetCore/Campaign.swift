import Foundation

/// A campaign: one template sent to the subscribed members of one list (optionally narrowed
/// by a segment), at its schedule and pace, expanded into ordinary bulk messages in
/// contact-id order. `cursor` is the last contact expanded: the runner moves it in the same
/// transaction as it inserts that chunk's messages, so a crash never sends anyone twice or
/// skips anyone.
public struct Campaign: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var name: String
    /// The list whose subscribed members receive it.
    public var listID: UUID
    /// The segment narrowing the list, if any.
    public var segmentID: UUID?
    /// The stored template it was made from (its parts are copied into `template`).
    public var templateID: UUID?
    /// That template's version.
    public var templateVersion: Int?
    /// What every recipient's message is rendered from (contact attributes and `email` as variables).
    public var template: MessageTemplate
    public var from: EmailAddress
    public var replyTo: EmailAddress?
    public var trackOpens: Bool
    public var trackClicks: Bool
    public var state: CampaignState
    public var schedule: CampaignSchedule
    /// The most recipients expanded per rolling hour (nil: no cap of its own).
    public var perHour: Int?
    /// The last contact expanded (nil: none yet).
    public var cursor: UUID?
    /// Recipients counted when it started (the expanded count once it is done).
    public var recipientsTotal: Int?
    /// Messages made so far.
    public var expanded: Int
    /// Recipients left out because their message could not be made (a render error), with the last reason.
    public var skipped: Int
    /// Why it last could not go on (a quota, a render error), if it says anything.
    public var lastError: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// When it was first started.
    public var startedAt: Date?
    /// When it became done or cancelled.
    public var finishedAt: Date?
    /// Its A/B test's variants (empty: no test).
    public var variants: [CampaignVariant]
    /// How its A/B test runs, when it has one.
    public var abTest: ABTest?
    /// When its A/B test is decided at the latest (set once the test cohort was made).
    public var abTestEndsAt: Date?
    /// Its A/B test's decision, once taken: the rest of the recipients get the winner.
    public var abDecision: ABDecision?

    /// Creates a campaign record.
    public init(
        id: UUID, tenantID: UUID, name: String, listID: UUID, segmentID: UUID? = nil, templateID: UUID? = nil, templateVersion: Int? = nil,
        template: MessageTemplate, from: EmailAddress, replyTo: EmailAddress? = nil, trackOpens: Bool = false, trackClicks: Bool = false,
        state: CampaignState = .draft, schedule: CampaignSchedule = CampaignSchedule(sendAt: nil, localTime: nil, timeZone: nil, perRecipient: false),
        perHour: Int? = nil, cursor: UUID? = nil, recipientsTotal: Int? = nil, expanded: Int = 0, skipped: Int = 0, lastError: String? = nil,
        createdAt: Date = Date(), updatedAt: Date = Date(), startedAt: Date? = nil, finishedAt: Date? = nil,
        variants: [CampaignVariant] = [], abTest: ABTest? = nil, abTestEndsAt: Date? = nil, abDecision: ABDecision? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.listID = listID
        self.segmentID = segmentID
        self.templateID = templateID
        self.templateVersion = templateVersion
        self.template = template
        self.from = from
        self.replyTo = replyTo
        self.trackOpens = trackOpens
        self.trackClicks = trackClicks
        self.state = state
        self.schedule = schedule
        self.perHour = perHour
        self.cursor = cursor
        self.recipientsTotal = recipientsTotal
        self.expanded = expanded
        self.skipped = skipped
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.variants = variants
        self.abTest = abTest
        self.abTestEndsAt = abTestEndsAt
        self.abDecision = abDecision
    }

    /// The `batch_id` of its messages, so the batch cancel (`POST /v1/batches/{id}/cancel`)
    /// reaches them too.
    public var batchID: String { Self.batchID(of: id) }

    /// The `batch_id` of campaign `id`'s messages.
    public static func batchID(of id: UUID) -> String { "campaign:" + id.lowercasedString }

    /// The most recipients one `per_hour` cap may name.
    public static let maxPerHour = 10_000_000
}

/// One recipient as the runner reads it: a subscribed member of the campaign's list.
public struct CampaignRecipient: Sendable, Hashable {
    public var contactID: UUID
    public var email: String
    /// The contact's attributes (a JSON object), the template's variables.
    public var attributes: JSONValue
    /// The contact's IANA time zone, if it has one.
    public var timeZone: String?

    /// Creates a recipient.
    public init(contactID: UUID, email: String, attributes: JSONValue, timeZone: String?) {
        self.contactID = contactID
        self.email = email
        self.attributes = attributes
        self.timeZone = timeZone
    }
}

extension Campaign {
    /// The submission for one recipient, as the batch API would take it: bulk, rendered from
    /// the campaign's template (`SubmissionPlan` renders it under the campaign's id) with the
    /// contact's attributes and `email` as variables, at the recipient's send time, in the
    /// campaign's batch. Nil when the contact's address is not one.
    public func submission(for recipient: CampaignRecipient, now: Date) -> MessageSubmission? {
        guard let address = try? EmailAddress(email: recipient.email) else { return nil }
        var variables: [String: JSONValue] = [:]
        if case .object(let attributes) = recipient.attributes { variables = attributes }
        variables["email"] = .string(recipient.email)
        let content = MessageContent(
            from: from, to: [address], replyTo: replyTo, subject: "", metadata: ["campaign_id": id.lowercasedString],
            trackOpens: trackOpens, trackClicks: trackClicks)
        var submission = MessageSubmission(
            content: content, priority: .bulk, sendAt: schedule.sendAt(contactTimeZone: recipient.timeZone, now: now), batchID: batchID)
        submission.templateID = id
        submission.variables = .object(variables)
        return submission
    }
}

/// What became of a campaign's messages: progress of their sending and what recipients did.
public struct CampaignStats: Sendable, Hashable, Codable {
    /// Messages waiting to be sent (queued, scheduled, or being sent).
    public var pending = 0
    /// Messages handed to a provider.
    public var sent = 0
    /// Messages that failed for good.
    public var failed = 0
    /// Messages cancelled before they were sent.
    public var cancelled = 0
    /// Messages whose delivery a provider reported.
    public var delivered = 0
    /// Messages that bounced.
    public var bounced = 0
    /// Messages opened at least once.
    public var opened = 0
    /// Messages with a click.
    public var clicked = 0
    /// Messages whose recipient unsubscribed.
    public var unsubscribed = 0
    /// Messages reported as spam.
    public var complained = 0

    /// All zero.
    public init() {}
}
