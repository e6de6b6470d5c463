import Foundation

/// How long the API may trust a cached authentication answer. The bound is what the docs
/// promise: a key revoked at once stops working within `ttl` seconds, and a key whose
/// revocation is scheduled (a rotation's grace period) is never trusted past that time.
public struct AuthCachePolicy: Sendable, Equatable {
    /// Seconds an answer is kept. Default 10.
    public var ttl: Double

    /// Creates a policy.
    public init(ttl: Double = 10) {
        self.ttl = ttl
    }

    /// When an answer obtained at `now` for a key revoking at `revokesAt` (if any) expires.
    public func expiry(now: Date, revokesAt: Date?) -> Date {
        let byTTL = now.addingTimeInterval(ttl)
        guard let revokesAt else { return byTTL }
        return min(byTTL, revokesAt)
    }
}
