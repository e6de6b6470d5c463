import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetRuntime
import MailfleetStore

/// Checks `Authorization: Bearer <key>` against stored key hashes, caching answers briefly so a
/// busy client costs no database round trip per request, and recording last use in batches.
public final class Authenticator: Sendable {
    private let tenants: TenantStore
    private let policy: AuthCachePolicy
    private let cache = Locked<[String: (key: AuthenticatedKey?, expires: Date)]>([:])
    private let used = Locked<(pending: Set<String>, lastTouch: [String: Date])>((pending: [], lastTouch: [:]))

    /// Creates an authenticator; answers are cached for `ttl` seconds (revocation takes that
    /// long), never past a key's scheduled revocation.
    public init(tenants: TenantStore, ttl: Double = 10) {
        self.tenants = tenants
        self.policy = AuthCachePolicy(ttl: ttl)
    }

    /// The key behind a request, whatever its scopes (`AuthenticationMiddleware` calls it;
    /// routes check scopes); throws 401, or 503 when the key store cannot be reached.
    public func identify(_ request: Request) async throws(APIError) -> AuthenticatedKey {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIError.unauthorized() }
        let presented = String(header.dropFirst("Bearer ".count)).trimmingCharacters(in: .whitespaces)
        let hash = APIKey.hash(presented)
        let now = Date()
        let cached = cache.withLock { $0[hash] }
        let key: AuthenticatedKey?
        if let cached, cached.expires > now {
            key = cached.key
        } else {
            key = try await database { try await tenants.authenticate(presented) }
            cache.withLock { cache in
                if cache.count > 10_000 { cache.removeAll() }
                cache[hash] = (key, policy.expiry(now: now, revokesAt: key?.revokesAt))
            }
        }
        guard let key else { throw APIError.unauthorized("the API key is unknown or revoked") }
        used.withLock { state in
            if (state.lastTouch[key.keyID] ?? .distantPast) < now.addingTimeInterval(-60) {
                state.pending.insert(key.keyID)
                state.lastTouch[key.keyID] = now
            }
        }
        return key
    }

    /// Writes pending last-used times (called periodically).
    public func flushLastUsed() async {
        let ids = used.withLock { state -> [String] in
            defer { state.pending.removeAll() }
            return Array(state.pending)
        }
        try? await tenants.touchKeys(ids)
    }
}
