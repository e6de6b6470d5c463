import Foundation
import Logging
import MailfleetCore
import MailfleetProviderFormats
import MailfleetRuntime
import MailfleetStore

/// The provider accounts' circuit breakers as this worker uses them: the fleet's, in Redis, so an
/// account one worker finds dead is skipped by every worker; while Redis cannot be reached, a
/// breaker per account in this process, so sending goes on and a dead account is still skipped.
final class AccountCircuitBreakers: Sendable {
    private let store: CircuitBreakerStore
    private let configuration: CircuitBreaker.Configuration
    private let logger: Logger
    private let metrics: WorkerMetrics
    private let local = Locked<[UUID: CircuitBreaker]>([:])
    /// True while Redis is unreachable, so the outage is logged once, not per call.
    private let redisLost = Locked(false)
    /// When Redis last said each account's breaker is closed (ms). Asking a closed breaker
    /// changes nothing in Redis, so for `closedFor` after such an answer a call goes ahead
    /// without asking again: one round trip per provider call (the record) instead of two. A
    /// breaker another worker trips is seen here within that time, or at once when this
    /// worker's own record reports the transition.
    private let known = Locked<[UUID: Known]>([:])
    private static let closedForMs = 500

    /// What this worker last learnt of an account's breaker.
    private struct Known {
        /// When Redis last said closed (ms), if that is still to be trusted.
        var closedAt: Int?
        /// Counts the transitions this worker's records reported. A "closed" answer is kept only
        /// if none came in while it was asked for: a lane's answer from before another lane's
        /// record tripped the breaker must not hide the trip.
        var changes = 0
    }

    /// Creates the breakers on `store`.
    init(store: CircuitBreakerStore, configuration: CircuitBreaker.Configuration, metrics: WorkerMetrics, logger: Logger) {
        self.store = store
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// Whether `account` may be called now (`.call`, or `.probe` in half-open) or not until a time.
    func mayCall(_ account: ProviderAccount) async -> CircuitBreaker.Decision {
        let now = Self.nowMs()
        let (closedAt, changes) = known.withLock { ($0[account.id]?.closedAt, $0[account.id]?.changes ?? 0) }
        if let closedAt, now - closedAt < Self.closedForMs { return .call }
        let permission: CircuitBreaker.Permission
        do {
            permission = try await store.mayCall(account: account.id, configuration: configuration, nowMs: now)
            redisAnswered()
            known.withLock { table in
                var entry = table[account.id] ?? Known()
                if permission.decision == .call {
                    if entry.changes == changes { entry.closedAt = now }
                } else {
                    entry.closedAt = nil
                }
                table[account.id] = entry
            }
        } catch {
            redisFailed(error)
            permission = local.withLock { [configuration] breakers in
                breakers[account.id, default: CircuitBreaker(configuration: configuration)].mayCall(nowMs: now)
            }
        }
        if let transition = permission.transition { changed(account, transition) }
        switch permission.decision {
        case .call: metrics.circuitState(account, .closed)
        case .probe: metrics.circuitState(account, .halfOpen)
        case .refuse: break
        }
        return permission.decision
    }

    /// Records the outcome of a call to `account` that took `duration`.
    func record(_ outcome: CircuitBreaker.Outcome, duration: Duration, for account: ProviderAccount) async {
        let now = Self.nowMs()
        let durationMs = duration.wholeMilliseconds
        let transition: CircuitBreaker.Transition?
        do {
            transition = try await store.record(
                account: account.id, outcome: outcome, durationMs: durationMs, configuration: configuration, nowMs: now)
            redisAnswered()
        } catch {
            redisFailed(error)
            transition = local.withLock { [configuration] breakers in
                breakers[account.id, default: CircuitBreaker(configuration: configuration)].record(outcome, durationMs: durationMs, nowMs: now)
            }
        }
        if let transition {
            known.withLock { table in
                var entry = table[account.id] ?? Known()
                entry.changes += 1
                entry.closedAt = transition.to == .closed ? now : nil
                table[account.id] = entry
            }
            changed(account, transition)
        }
    }

    private func changed(_ account: ProviderAccount, _ transition: CircuitBreaker.Transition) {
        metrics.circuitTransition(account, to: transition.to)
        metrics.circuitState(account, transition.to)
        let metadata: Logger.Metadata = ["account": "\(account.name)", "account_id": "\(account.id)", "from": "\(transition.from.name)", "to": "\(transition.to.name)"]
        if transition.to == .open {
            logger.warning("provider account circuit opened", metadata: metadata)
        } else {
            logger.info("provider account circuit changed", metadata: metadata)
        }
    }

    private func redisFailed(_ error: any Error) {
        let first = redisLost.withLock { lost in
            defer { lost = true }
            return !lost
        }
        if first {
            logger.warning("circuit breakers unreachable in Redis; using this worker's own until it answers", metadata: ["error": "\(error)"])
        }
    }

    private func redisAnswered() {
        let wasLost = redisLost.withLock { lost in
            defer { lost = false }
            return lost
        }
        if wasLost { logger.info("circuit breakers reachable in Redis again") }
    }

    /// The wall clock in milliseconds: every worker's breaker calls share the one Redis state,
    /// so they need a clock that means the same on every machine.
    static func nowMs() -> Int {
        Int((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
