import Foundation
import MailfleetCore
import MailfleetRedis

/// Per-key GCRA rate limits in Redis, shared by every API replica. One Lua script does the
/// read, decision and write atomically, with Redis's clock so replicas' clocks do not matter;
/// it is loaded once and called by SHA.
public struct RateLimiter: Sendable {
    private let redis: RedisClient
    private let prefix: String

    /// Creates a limiter whose keys start with `prefix`.
    public init(redis: RedisClient, prefix: String = "mf:rl") {
        self.redis = redis
        self.prefix = prefix
    }

    /// Checks and counts one request against `limit` for `subject` (e.g. `api:<tenant id>`).
    public func check(_ subject: String, limit: RateLimit) async throws -> RateLimitDecision {
        let reply = try await redis.evaluate(
            RateLimiter.script, keys: ["\(prefix):\(subject)"], arguments: ["\(limit.limit)", "\(limit.periodMs)"])
        guard let values = reply.array?.compactMap(\.int), values.count == 4 else {
            throw RedisError(message: "unexpected rate limit reply \(reply)")
        }
        let allowed = values[0] == 1
        return RateLimitDecision(
            allowed: allowed, limit: limit.limit, remaining: values[1], retryAfterMs: values[2], resetMs: values[3], newTATUs: nil)
    }

    /// The same arithmetic as `RateLimit.decide`, atomically in Redis, in microseconds of
    /// Redis's clock. (A TAT stored in milliseconds by an older version reads as long past: the
    /// subject starts with a full allowance once.)
    /// Returns {allowed 0/1, remaining, retry_after_ms, reset_ms}.
    static let script = RedisScript("""
        local limit = tonumber(ARGV[1])
        local period = tonumber(ARGV[2]) * 1000
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        local interval = period / limit
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        local new_tat = tat + interval
        local allow_at = new_tat - period
        if now < allow_at then
          return {0, 0, math.ceil((allow_at - now) / 1000), math.ceil((tat - now) / 1000)}
        end
        local stored = math.ceil(new_tat)
        redis.call('SET', KEYS[1], string.format('%.0f', stored), 'PX', math.max(1, math.ceil((stored - now) / 1000)))
        local remaining = math.floor((period - (new_tat - now)) / interval)
        if remaining < 0 then remaining = 0 end
        return {1, remaining, 0, math.ceil((new_tat - now) / 1000)}
        """)
}
