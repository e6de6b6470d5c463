import Foundation

/// Outcomes of provider calls to write in one transaction.
public struct OutcomeBatch: Sendable {
    /// A provider accepted the message.
    public struct Sent: Sendable {
        /// The message.
        public var messageID: UUID
        /// Its tenant.
        public var tenantID: UUID
        /// The provider account that accepted it.
        public var accountID: UUID
        /// The provider's id for it, if it gave one.
        public var providerMessageID: String?
        /// Creates a sent outcome.
        public init(messageID: UUID, tenantID: UUID, accountID: UUID, providerMessageID: String?) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.accountID = accountID
            self.providerMessageID = providerMessageID
        }
    }

    /// The message will be tried again at `nextAttemptAt` (after a failed attempt, or a wait).
    public struct Deferred: Sendable {
        /// The message.
        public var messageID: UUID
        /// Its tenant.
        public var tenantID: UUID
        /// Why the attempt failed.
        public var reason: String
        /// When to try again.
        public var nextAttemptAt: Date
        /// False for a wait that is not the message's fault (every account open or paced, or
        /// none at all): the message's attempts stay as they are.
        public var countsAsAttempt: Bool
        /// For a wait: true when it begins a hold, false when the message was already held
        /// (looked at again while its pause or limit lasts), which writes no further event.
        public var startsHold: Bool
        /// Creates a deferred outcome.
        public init(
            messageID: UUID, tenantID: UUID, reason: String, nextAttemptAt: Date, countsAsAttempt: Bool = true, startsHold: Bool = true
        ) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.reason = reason
            self.nextAttemptAt = nextAttemptAt
            self.countsAsAttempt = countsAsAttempt
            self.startsHold = startsHold
        }
    }

    /// The message failed for good.
    public struct Failed: Sendable {
        /// The message.
        public var messageID: UUID
        /// Its tenant.
        public var tenantID: UUID
        /// Why it failed.
        public var reason: String
        /// False when no provider was called (e.g. the tenant has no provider).
        public var countsAsAttempt: Bool
        /// Creates a failed outcome.
        public init(messageID: UUID, tenantID: UUID, reason: String, countsAsAttempt: Bool = true) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.reason = reason
            self.countsAsAttempt = countsAsAttempt
        }
    }

    /// A message not sent because the tenant suppressed every `to` recipient after it was
    /// queued (a bounce, complaint or unsubscribe in between).
    public struct Dropped: Sendable {
        /// The message.
        public var messageID: UUID
        /// Its tenant.
        public var tenantID: UUID
        /// The suppressed recipients, normalised.
        public var recipients: [String]

        /// Creates a dropped outcome.
        public init(messageID: UUID, tenantID: UUID, recipients: [String]) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.recipients = recipients
        }
    }

    /// Messages a provider accepted.
    public var sent: [Sent] = []
    /// Messages held back at send by the suppression list.
    public var dropped: [Dropped] = []
    /// Messages to try again later.
    public var deferred: [Deferred] = []
    /// Messages that failed for good.
    public var failed: [Failed] = []
    /// Further events to write with these outcomes (e.g. `bounced` for a recipient refused
    /// inside a sent message), in the same transaction.
    public var recipientEvents: [NewEvent] = []

    /// An empty batch.
    public init() {}

    /// True when there is nothing to write.
    public var isEmpty: Bool { sent.isEmpty && deferred.isEmpty && failed.isEmpty && dropped.isEmpty && recipientEvents.isEmpty }

    /// The events these outcomes add to message histories. `sent` adds none: the message row
    /// records it (sent_at, provider message id, account), which halves the hot path's writes.
    /// A hold writes one `deferred` event when it begins, not one per look while it lasts.
    public var events: [NewEvent] {
        deferred.filter { $0.countsAsAttempt || $0.startsHold }.map { NewEvent(tenantID: $0.tenantID, messageID: $0.messageID, type: .deferred, detail: ["reason": $0.reason, "next_attempt_at": ISO8601.format($0.nextAttemptAt)]) }
            + failed.map { NewEvent(tenantID: $0.tenantID, messageID: $0.messageID, type: .failed, detail: ["reason": $0.reason]) }
            + dropped.map {
                NewEvent(tenantID: $0.tenantID, messageID: $0.messageID, type: .dropped, detail: ["reason": "suppressed", "recipients": $0.recipients.joined(separator: ",")])
            }
            + recipientEvents
    }
}
