import Foundation
import MailfleetRedis

/// The memory of Mailgun webhook tokens already used, shared by every tracker replica: Mailgun's
/// signature does not cover the event, so a captured signature must not be usable twice. One
/// `SET NX EX` per request; a token is remembered a little longer than a signature stays fresh.
/// The token's value is the id of the event it came with: a tracker that stopped between taking
/// the token and committing the event must not refuse Mailgun's retry of that same event, which
/// the event id then stores once. Another event under a used token is a replay.
public struct WebhookReplayGuard: Sendable {
    private let redis: RedisClient
    private let prefix: String
    private let ttlSeconds: Int

    /// Creates a guard; `ttlSeconds` must exceed the freshness tolerance.
    public init(redis: RedisClient, prefix: String = "mf:webhook-token", ttlSeconds: Int = 900) {
        self.redis = redis
        self.prefix = prefix
        self.ttlSeconds = ttlSeconds
    }

    /// True the first time `token` is seen for `accountID`, and again only with the same
    /// `eventID` (a retry of the same event); false for any other later use.
    public func firstUse(of token: String, accountID: UUID, eventID: String?) async throws -> Bool {
        let key = "\(prefix):\(accountID.uuidString.lowercased()):\(token)"
        // Without an event id nothing tells a retry from a replay: the value never matches.
        let value = eventID.flatMap { $0.isEmpty ? nil : "event:" + $0 } ?? "1"
        if try await redis.command("SET", key, value, "NX", "EX", String(ttlSeconds)).string == "OK" { return true }
        guard value != "1" else { return false }
        return try await redis.command("GET", key).string == value
    }

    /// Forgets a token, so the provider's retry of a request we failed to store is not refused.
    public func forget(_ token: String, accountID: UUID) async throws {
        try await redis.command("DEL", "\(prefix):\(accountID.uuidString.lowercased()):\(token)")
    }
}
