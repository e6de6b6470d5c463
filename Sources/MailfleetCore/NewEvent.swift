import Foundation

/// An event to append to a message's history.
public struct NewEvent: Sendable {
    /// The tenant.
    public var tenantID: UUID
    /// The message.
    public var messageID: UUID
    /// What happened.
    public var type: EventType
    /// Details (string values), stored as a JSON object.
    public var detail: [String: String]
    /// When it happened.
    public var occurredAt: Date

    /// Creates an event.
    public init(tenantID: UUID, messageID: UUID, type: EventType, detail: [String: String] = [:], occurredAt: Date = Date()) {
        self.tenantID = tenantID
        self.messageID = messageID
        self.type = type
        self.detail = detail
        self.occurredAt = occurredAt
    }
}
