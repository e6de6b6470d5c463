import Foundation
import MailfleetRedis

/// A lease in Redis that one holder at a time owns for a while: leader election between
/// scheduler replicas. The holder renews it well within its duration; when the holder dies,
/// the lease expires and a standby takes it.
public struct LeaderLease: Sendable {
    private let redis: RedisClient
    /// The Redis key of the lease.
    public let key: String
    /// Who asks for the lease (unique per replica).
    public let holder: String
    /// How long the lease lasts without renewal, in milliseconds.
    public let milliseconds: Int

    /// Creates the lease of `key` for `holder`.
    public init(redis: RedisClient, key: String = "mf:scheduler:leader", holder: String, milliseconds: Int) {
        self.redis = redis
        self.key = key
        self.holder = holder
        self.milliseconds = milliseconds
    }

    /// Takes the lease when it is free or renews it when `holder` has it; true when `holder`
    /// holds it now.
    public func acquire() async throws -> Bool {
        try await redis.evaluate(Self.acquireScript, keys: [key], arguments: [holder, String(milliseconds)]).int == 1
    }

    /// Gives the lease up if `holder` has it, so a standby can take over at once; true when it did.
    @discardableResult
    public func release() async throws -> Bool {
        try await redis.evaluate(Self.releaseScript, keys: [key], arguments: [holder]).int == 1
    }

    // Atomic, so two replicas can never both see the lease as free.
    static let acquireScript = RedisScript("""
        local current = redis.call('GET', KEYS[1])
        if current == ARGV[1] then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
          return 1
        end
        if not current then
          redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
          return 1
        end
        return 0
        """)

    // Only the holder's own lease is deleted: a late release cannot drop a successor's lease.
    static let releaseScript = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """)
}
