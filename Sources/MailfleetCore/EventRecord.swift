import Foundation

/// One event in a message's history.
public struct EventRecord: Sendable {
    /// The event type.
    public var type: String
    /// Details as JSON text.
    public var detail: String
    /// When it happened.
    public var occurredAt: Date

    /// Creates an event record.
    public init(type: String, detail: String, occurredAt: Date) {
        self.type = type
        self.detail = detail
        self.occurredAt = occurredAt
    }
}
