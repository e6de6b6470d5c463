import Foundation
import MailfleetCore
import MailfleetRuntime
import MailfleetStore

/// Provider accounts by id for webhook requests, kept briefly so a burst of webhooks does not
/// read the same row each time; a secret changed with `mailfleet providers update` is seen
/// within `ttl`. Unknown ids are remembered for a shorter time, so a new account works at once
/// nearly, and a flood of bad ids still does not reach Postgres on every request.
final class WebhookAccounts: Sendable {
    private let tenants: TenantStore
    private let ttlMs: Int
    private let missingTTLMs: Int
    private let clock = MonotonicMilliseconds()
    private let cache = Locked<[UUID: (account: ProviderAccount?, expiresMs: Int)]>([:])

    init(tenants: TenantStore, ttl: Duration = .seconds(30), missingTTL: Duration = .seconds(2)) {
        self.tenants = tenants
        self.ttlMs = ttl.wholeMilliseconds
        self.missingTTLMs = missingTTL.wholeMilliseconds
    }

    /// The account, or nil when there is none.
    func account(_ id: UUID) async throws -> ProviderAccount? {
        let now = clock.nowMs()
        if let cached = cache.withLock({ $0[id] }), cached.expiresMs > now { return cached.account }
        let account = try await tenants.providerAccount(id: id)
        let expires = now + (account == nil ? missingTTLMs : ttlMs)
        cache.withLock { entries in
            // Bounded: a flood of random ids must not grow it for ever.
            if entries.count > 10_000 { entries.removeAll() }
            entries[id] = (account, expires)
        }
        return account
    }
}
