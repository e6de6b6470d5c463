import Foundation

/// A message with its delivery details and history, as `GET /v1/messages/{id}` shows it.
public struct MessageRecord: Sendable {
    /// The message.
    public var message: Message
    /// Last change.
    public var updatedAt: Date
    /// When a provider accepted it.
    public var sentAt: Date?
    /// The last error, if any.
    public var lastError: String?
    /// The provider's id for it.
    public var providerMessageID: String?
    /// Its events, oldest first, starting with `accepted`.
    public var events: [EventRecord]

    /// Creates a record.
    public init(message: Message, updatedAt: Date, sentAt: Date?, lastError: String?, providerMessageID: String?, events: [EventRecord]) {
        self.message = message
        self.updatedAt = updatedAt
        self.sentAt = sentAt
        self.lastError = lastError
        self.providerMessageID = providerMessageID
        self.events = events
    }
}
