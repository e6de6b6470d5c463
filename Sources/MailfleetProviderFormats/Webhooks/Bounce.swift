/// How a message bounced: hard (never retry this address) or soft, why in one of a few
/// classes, and the provider's own code and text.
public struct Bounce: Sendable, Equatable {
    /// Whether the address should be given up on.
    public enum Severity: String, Sendable, Equatable, CaseIterable {
        /// Permanent: the address is suppressed.
        case hard
        /// Temporary: a later message may get through.
        case soft
    }

    /// Hard or soft.
    public var severity: Severity
    /// Why, in one of a few classes.
    public var bounceClass: BounceClass
    /// The provider's or the receiving server's code (an enhanced status `5.1.1`, an SMTP `550`, a provider type).
    public var code: String?
    /// The provider's or the receiving server's text.
    public var text: String?

    /// Creates a bounce.
    public init(severity: Severity, bounceClass: BounceClass, code: String? = nil, text: String? = nil) {
        self.severity = severity
        self.bounceClass = bounceClass
        self.code = code.map(WebhookEvent.storable)
        self.text = text.map(WebhookEvent.storable)
    }
}
