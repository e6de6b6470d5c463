import Foundation
import MailfleetCore

/// One thing a provider reports about a message after the send, in the same words whatever the
/// provider: what happened, to which recipient, of which message, and the provider's own id of
/// the report (the same report delivered twice is stored once).
public struct WebhookEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The receiving server took the message.
        case delivered
        /// A temporary failure; the provider keeps trying.
        case deferred
        /// The receiving side refused or returned it (`bounce` says how).
        case bounced
        /// The recipient reported it as spam.
        case complained
        /// The recipient opened it (provider open tracking).
        case opened
        /// The recipient clicked a link (provider click tracking).
        case clicked
        /// The recipient unsubscribed at the provider.
        case unsubscribed
        /// The provider did not send it (its own suppression list, a rejected message).
        case dropped
    }

    /// The provider that reported it.
    public var provider: ProviderKind
    /// The provider's id of this report; with the account, the key that makes it stored once.
    public var providerEventID: String
    /// What happened.
    public var kind: Kind
    /// Our message id, from the value we send with each call, when the provider echoed it back.
    public var messageID: UUID?
    /// The provider's message id, in the form the worker records it, for when `messageID` is missing.
    public var providerMessageID: String?
    /// The recipient it is about, lowercased.
    public var recipient: String?
    /// When it happened, by the provider's clock.
    public var occurredAt: Date
    /// How it bounced (bounced, and deferred when the provider says why).
    public var bounce: Bounce?
    /// The link clicked (clicked only).
    public var url: String?
    /// The provider's reason in words (dropped, deferred, complained feedback type).
    public var reason: String?

    /// Creates an event.
    public init(
        provider: ProviderKind, providerEventID: String, kind: Kind, messageID: UUID? = nil, providerMessageID: String? = nil, recipient: String? = nil,
        occurredAt: Date, bounce: Bounce? = nil, url: String? = nil, reason: String? = nil
    ) {
        self.provider = provider
        self.providerEventID = Self.storable(providerEventID)
        self.kind = kind
        self.messageID = messageID
        self.providerMessageID = providerMessageID.map(Self.storable)
        self.recipient = recipient.map(Self.storable)?.lowercased()
        self.occurredAt = occurredAt
        self.bounce = bounce
        self.url = url.map(Self.storable)
        self.reason = reason.map(Self.storable)
    }

    /// True when the recipient must not be mailed again: a hard bounce, a complaint or an
    /// unsubscribe. A hard bounce for reputation or policy (a blocklisted sender, DMARC) is the
    /// sender's fault, not the address's, so it does not suppress.
    public var suppressesRecipient: Bool {
        switch kind {
        case .bounced:
            guard let bounce, bounce.severity == .hard else { return false }
            return bounce.bounceClass != .reputation && bounce.bounceClass != .policy
        case .complained, .unsubscribed: return true
        case .delivered, .deferred, .opened, .clicked, .dropped: return false
        }
    }
}
