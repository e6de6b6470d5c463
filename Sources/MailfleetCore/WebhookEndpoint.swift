import Foundation

/// A tenant's webhook endpoint: where its events are posted, which ones, and the secrets they
/// are signed with.
public struct WebhookEndpoint: Sendable, Equatable {
    /// Its id.
    public var id: UUID
    /// Its tenant.
    public var tenantID: UUID
    /// Where requests are posted.
    public var url: String
    /// The webhook types it receives (`email.bounced` ...); empty means every type.
    public var eventTypes: [String]
    /// Whether deliveries are made.
    public var enabled: Bool
    /// Whether several events may go in one request (a JSON array).
    public var batch: Bool
    /// The secret that signs (the newest).
    public var secret: WebhookSecret
    /// The secret rotated out, which still signs until `previousSecretExpiresAt`.
    public var previousSecret: WebhookSecret?
    /// Until when `previousSecret` signs.
    public var previousSecretExpiresAt: Date?
    /// Why it was disabled automatically, while it is.
    public var disabledReason: String?
    /// When it was disabled, while it is.
    public var disabledAt: Date?
    /// When it was created.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Creates a record.
    public init(
        id: UUID, tenantID: UUID, url: String, eventTypes: [String], enabled: Bool, batch: Bool, secret: WebhookSecret,
        previousSecret: WebhookSecret? = nil, previousSecretExpiresAt: Date? = nil, disabledReason: String? = nil, disabledAt: Date? = nil,
        createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.url = url
        self.eventTypes = eventTypes
        self.enabled = enabled
        self.batch = batch
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.disabledReason = disabledReason
        self.disabledAt = disabledAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The secrets that sign at `now`: the current one, and the previous one inside its grace period.
    public func signingSecrets(at now: Date) -> [WebhookSecret] {
        guard let previousSecret, let until = previousSecretExpiresAt, until > now else { return [secret] }
        return [secret, previousSecret]
    }

    /// Whether it receives events of webhook type `type`.
    public func wants(_ type: String) -> Bool { eventTypes.isEmpty || eventTypes.contains(type) }
}
