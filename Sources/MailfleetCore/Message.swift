import Foundation

/// A message as the system of record holds it: its content plus its delivery state.
public struct Message: Sendable, Hashable, Identifiable {
    /// The message id (also the id callers see).
    public var id: UUID
    /// The tenant that sent it.
    public var tenantID: UUID
    /// Its lane.
    public var priority: Priority
    /// Where it is in its life.
    public var status: MessageStatus
    /// What it says and to whom.
    public var content: MessageContent
    /// Provider attempts made so far.
    public var attempts: Int
    /// When it should go out, if scheduled.
    public var sendAt: Date?
    /// When the API accepted it.
    public var createdAt: Date
    /// When it was last re-driven from the dead letters, if ever.
    public var redrivenAt: Date?
    /// Seconds it spent held by finished holds (waiting for an account, a pause or a limit
    /// rather than for a retry): they do not count toward the retry policy's maximum age.
    public var heldSeconds: Double
    /// When the hold it is in began, or nil when it is not held.
    public var heldSince: Date?
    /// The tenant's own batch name (`batch_id`), which a batch cancel names.
    public var batchID: String?
    /// The campaign that made it, if any (with `contactID`: one message per campaign and contact).
    public var campaignID: UUID?
    /// The contact a campaign made it for.
    public var contactID: UUID?

    /// What the retry policy's maximum age counts from: the last re-drive, else acceptance,
    /// so a re-driven old message gets a full retry period instead of expiring at once.
    public var retryAgeOrigin: Date { redrivenAt ?? createdAt }

    /// Its age for the retry policy at `now`: time since `retryAgeOrigin` less the time it was
    /// held, so mail held by a pause or a limit for days is not expired when it is let go.
    public func retryAge(at now: Date) -> Double {
        let holding = heldSince.map { max(0, now.timeIntervalSince($0)) } ?? 0
        return max(0, now.timeIntervalSince(retryAgeOrigin) - heldSeconds - holding)
    }

    /// Creates a message record.
    public init(
        id: UUID, tenantID: UUID, priority: Priority, status: MessageStatus, content: MessageContent,
        attempts: Int = 0, sendAt: Date? = nil, createdAt: Date = Date(), redrivenAt: Date? = nil,
        heldSeconds: Double = 0, heldSince: Date? = nil, batchID: String? = nil,
        campaignID: UUID? = nil, contactID: UUID? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.priority = priority
        self.status = status
        self.content = content
        self.attempts = attempts
        self.sendAt = sendAt
        self.createdAt = createdAt
        self.redrivenAt = redrivenAt
        self.heldSeconds = heldSeconds
        self.heldSince = heldSince
        self.batchID = batchID
        self.campaignID = campaignID
        self.contactID = contactID
    }
}
