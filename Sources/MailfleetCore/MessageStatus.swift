/// Where a message is in its life. Postgres holds the truth; Redis only carries work.
public enum MessageStatus: String, Sendable, Codable, CaseIterable {
    /// Accepted and waiting for a worker (or for its `send_at`, or for a retry).
    case queued
    /// Claimed by a worker that is calling a provider.
    case sending
    /// A provider accepted it.
    case sent
    /// Gave up: permanent rejection or attempts exhausted (dead-lettered).
    case failed
    /// Not sent because a recipient is on the tenant's suppression list.
    case suppressed
    /// The provider reports the receiving server took it.
    case delivered
    /// The provider reports it bounced.
    case bounced
    /// The provider reports a recipient marked it as spam.
    case complained
    /// Cancelled by its tenant or an operator before a worker claimed it; never sent.
    case cancelled

    /// True when nothing more will happen to the message by itself.
    public var isFinal: Bool {
        switch self {
        case .queued, .sending: return false
        case .sent, .failed, .suppressed, .delivered, .bounced, .complained, .cancelled: return true
        }
    }
}

/// What happened to a message, as recorded in its event history.
public enum EventType: String, Sendable, Codable, CaseIterable {
    /// The API accepted the message.
    case accepted
    /// A provider accepted the message.
    case sent
    /// A provider call failed retryably; the message will be tried again later.
    case deferred
    /// The message failed for good.
    case failed
    /// The message was suppressed.
    case suppressed
    /// A recipient opened the message (tracking pixel).
    case opened
    /// A recipient clicked a tracked link.
    case clicked
    /// A recipient was refused while the message went to its other recipients (an SMTP
    /// server's RCPT TO refusal); the detail names the address and the server's reply.
    case bounced
    /// A failed message was sent back to the queue by an operator or its tenant (`mailfleet dlq
    /// redrive`, `POST /v1/messages/{id}/retry`); the detail keeps the error it had failed with.
    case redriven
    /// The provider reports the receiving server took the message.
    case delivered
    /// A recipient marked the message as spam (provider feedback loop).
    case complained
    /// A recipient unsubscribed: with the message's one-click link (RFC 8058; the detail names
    /// the address, now suppressed for the tenant) or as reported by the provider.
    case unsubscribed
    /// The message was not sent to a recipient: suppressed at send, or dropped by the provider.
    case dropped
    /// The message was cancelled before it was sent (`DELETE /v1/messages/{id}`, a batch
    /// cancel, `mailfleet messages cancel`); the detail names who cancelled it.
    case cancelled
}
