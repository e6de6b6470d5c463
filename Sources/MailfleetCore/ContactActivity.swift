import Foundation

/// When a contact last had an event of one type, from one campaign or from any message: what
/// segment event conditions look at (a row of `contact_activity`, or one raw event).
public struct ContactActivity: Sendable, Hashable {
    /// The event type.
    public var type: EventType
    /// The campaign of the message, nil for one that was not a campaign's.
    public var campaignID: UUID?
    /// When it happened (the latest such event).
    public var lastAt: Date

    /// An activity record.
    public init(type: EventType, campaignID: UUID?, lastAt: Date) {
        self.type = type
        self.campaignID = campaignID
        self.lastAt = lastAt
    }
}
