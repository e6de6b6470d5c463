import Foundation

/// An API key as listed: everything but the secret, which is never stored.
public struct APIKeyRecord: Sendable, Equatable {
    /// The public prefix id.
    public var id: String
    /// The owning tenant.
    public var tenantID: UUID
    /// What it may do.
    public var scopes: [APIScope]
    /// When it was created.
    public var createdAt: Date
    /// When it was last used (recorded at most once a minute), if ever.
    public var lastUsedAt: Date?
    /// When it stops (or stopped) working, if revoked.
    public var revokedAt: Date?

    /// Creates a record.
    public init(id: String, tenantID: UUID, scopes: [APIScope], createdAt: Date, lastUsedAt: Date?, revokedAt: Date?) {
        self.id = id
        self.tenantID = tenantID
        self.scopes = scopes
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }

    /// True when the key does not work at `now`.
    public func isRevoked(at now: Date = Date()) -> Bool { revokedAt.map { $0 <= now } ?? false }
}
