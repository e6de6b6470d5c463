import Foundation

/// A key that passed authentication.
public struct AuthenticatedKey: Sendable, Equatable {
    /// The key's public id.
    public var keyID: String
    /// The tenant it belongs to.
    public var tenantID: UUID
    /// What it may do.
    public var scopes: Set<APIScope>
    /// When a pending revocation (a rotation's grace period) takes effect, if one is set.
    public var revokesAt: Date?

    /// The tenant's API requests per minute, nil for the configured default.
    public var apiRateLimit: Int?

    /// Creates an authenticated key.
    public init(keyID: String, tenantID: UUID, scopes: Set<APIScope>, revokesAt: Date? = nil, apiRateLimit: Int? = nil) {
        self.keyID = keyID
        self.tenantID = tenantID
        self.scopes = scopes
        self.revokesAt = revokesAt
        self.apiRateLimit = apiRateLimit
    }
}
