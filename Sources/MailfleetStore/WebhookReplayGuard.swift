import Foundation
import MailfleetRedis

/// The memory of Mailgun webhook tokens already used, shared by every tracker replica: Mailgun's
/// signature does not cover the event, so a captured signature must not be usable twice. One
/// `SET NX EX` per request; a token is remembered a little longer than a signature stays fresh.
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

    /// True the first time `token` is seen for `accountID`, false on every later use.
    public func firstUse(of token: String, accountID: UUID) async throws -> Bool {
        let reply = try await redis.command("SET", "\(prefix):\(accountID.uuidString.lowercased()):\(token)", "1", "NX", "EX", String(ttlSeconds))
        return reply.string == "OK"
    }

    /// Forgets a token, so the provider's retry of a request we failed to store is not refused.
    public func forget(_ token: String, accountID: UUID) async throws {
        try await redis.command("DEL", "\(prefix):\(accountID.uuidString.lowercased()):\(token)")
    }
}
