import Foundation
import MailfleetCore
import MailfleetRedis

extension CircuitBreakerStore {
    /// The fleet's breaker states of many accounts, read in one round trip without changing
    /// any (for listings: the CLI and the API). An account with no stored breaker is closed
    /// with nothing counted, as `CircuitBreaker` starts.
    public func states(accounts: [UUID]) async throws -> [UUID: CircuitBreaker.State] {
        guard !accounts.isEmpty else { return [:] }
        let replies = try await redis.pipeline(accounts.map { ["HMGET", key($0)] + Self.fields })
        var states: [UUID: CircuitBreaker.State] = [:]
        for (account, reply) in zip(accounts, replies) {
            if case .error(let message) = reply { throw RedisError(message: message) }
            guard let state = Self.state(reply) else { throw RedisError(message: "unexpected circuit breaker hash \(reply)") }
            states[account] = state
        }
        return states
    }

    /// The hash fields, in the order `state(_:)` reads them (the script's names).
    private static let fields = ["phase", "window", "trips", "open_until", "probes", "successes", "last_probe_at", "changed_at"]

    /// A state from an HMGET reply; nil fields (no hash) read as the closed start.
    private static func state(_ reply: RedisValue) -> CircuitBreaker.State? {
        guard let values = reply.array, values.count == fields.count else { return nil }
        // A missing field is 0; one that is not a number makes the whole reply unreadable.
        func number(_ i: Int) -> Int? {
            guard let text = values[i].string else { return 0 }
            return Int(text)
        }
        guard let code = number(0), let phase = CircuitBreaker.Phase(rawValue: code), let trips = number(2),
              let openUntil = number(3), let probes = number(4), let successes = number(5), let lastProbe = number(6),
              let changedAt = number(7) else { return nil }
        return CircuitBreaker.State(
            phase: phase, window: (values[1].string ?? "").map { $0 == "1" }, trips: trips, openUntilMs: openUntil,
            probesGranted: probes, probeSuccesses: successes, lastProbeAtMs: lastProbe, changedAtMs: changedAt)
    }
}
