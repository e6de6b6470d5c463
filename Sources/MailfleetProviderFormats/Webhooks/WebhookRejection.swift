/// Why a provider webhook request was refused. It chooses its own HTTP status, and its reason
/// is the label of `mailfleet_webhook_rejected_total`.
public struct WebhookRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of refusal, named as the metric labels them.
    public enum Reason: String, Sendable, CaseIterable {
        /// No signature, timestamp or credentials where the provider always sends them.
        case unsigned
        /// A signature or credentials that do not match.
        case badSignature = "bad_signature"
        /// Signed too long ago (or in the future) to be a fresh delivery.
        case stale
        /// A Mailgun token seen before: the same signature posted again.
        case replayed
        /// An SNS signing certificate from anywhere but an AWS SNS host over https.
        case disallowedCertificate = "disallowed_certificate"
        /// An SNS topic that is not on the account's allowlist.
        case disallowedTopic = "disallowed_topic"
        /// A body, header or signature encoding that cannot be read.
        case malformed
        /// No provider account with that id and kind, or none set up for webhooks.
        case unknownAccount = "unknown_account"
        /// Something we depend on failed (a certificate fetch, the database): the provider should retry.
        case unavailable
    }

    /// The kind of refusal.
    public var reason: Reason
    /// What exactly was wrong, for the log and the error body.
    public var detail: String

    /// Creates a refusal.
    public init(_ reason: Reason, _ detail: String) {
        self.reason = reason
        self.detail = detail
    }

    /// 401 when the request is not proven to come from the provider, 403 when it names a source
    /// or topic we do not accept (or replays one), 400 when unreadable, 404 for an unknown account,
    /// 503 when the fault is ours and a retry may succeed.
    public var status: Int {
        switch reason {
        case .unsigned, .badSignature, .stale: return 401
        case .replayed, .disallowedCertificate, .disallowedTopic: return 403
        case .malformed: return 400
        case .unknownAccount: return 404
        case .unavailable: return 503
        }
    }

    /// `reason: detail`.
    public var description: String { "\(reason.rawValue): \(detail)" }
}
