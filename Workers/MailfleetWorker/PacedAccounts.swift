import Foundation
import Logging
import MailfleetCore
import MailfleetRuntime
import MailfleetStore

/// The provider accounts paced after a 429, as this worker sees them: the fleet's paces in
/// Redis, so one worker's 429 slows every replica; while Redis cannot be reached, the paces
/// this worker set itself. An account found unpaced is trusted so for 500 ms (as the breakers'
/// closed answer), so asking costs one GET per account and half second, not one per call.
final class PacedAccounts: Sendable {
    private let store: AccountPacingStore
    private let pacing: AccountPacing
    private let logger: Logger
    /// Per account: the pace last known (from Redis or this worker's own 429s) and when Redis
    /// was last asked (ms).
    private let known = Locked<[UUID: (state: AccountPacing.State?, askedAtMs: Int)]>([:])
    private static let trustMs = 500

    /// Creates the view on `store`.
    init(store: AccountPacingStore, pacing: AccountPacing, logger: Logger) {
        self.store = store
        self.pacing = pacing
        self.logger = logger
    }

    /// The end of `account`'s pace (epoch ms), or nil when it may be called now.
    func pacedUntilMs(_ account: ProviderAccount, nowMs: Int) async -> Int? {
        let cached = known.withLock { $0[account.id] }
        if let cached, nowMs - cached.askedAtMs < Self.trustMs || cached.state?.isPaced(nowMs: nowMs) == true {
            return cached.state.flatMap { $0.isPaced(nowMs: nowMs) ? $0.pacedUntilMs : nil }
        }
        let state: AccountPacing.State?
        do {
            state = try await store.state(account: account.id)
        } catch {
            // Redis away: go by what this worker knows; the breakers log the outage.
            state = cached?.state
            logger.debug("account pace unreadable", metadata: ["account": "\(account.name)", "error": "\(error)"])
        }
        known.withLock { $0[account.id] = (state, nowMs) }
        return state.flatMap { $0.isPaced(nowMs: nowMs) ? $0.pacedUntilMs : nil }
    }

    /// Records that `account` answered 429 at `nowMs` (with its Retry-After, if any); returns
    /// the end of the pace now in force (epoch ms).
    func throttled(_ account: ProviderAccount, retryAfterMs: Int?, nowMs: Int) async -> Int {
        let state: AccountPacing.State
        do {
            state = try await store.throttled(account: account.id, retryAfterMs: retryAfterMs, pacing: pacing, nowMs: nowMs)
        } catch {
            state = known.withLock { known in
                pacing.throttled(known[account.id]?.state, retryAfterMs: retryAfterMs, nowMs: nowMs)
            }
            logger.debug("account pace not stored", metadata: ["account": "\(account.name)", "error": "\(error)"])
        }
        known.withLock { $0[account.id] = (state, nowMs) }
        logger.info("provider account paced", metadata: [
            "account": "\(account.name)", "account_id": "\(account.id)", "until_ms": "\(state.pacedUntilMs)",
            "backoff_ms": "\(state.backoffMs)",
        ])
        return state.pacedUntilMs
    }
}
