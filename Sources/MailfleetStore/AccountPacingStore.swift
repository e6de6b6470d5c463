import Foundation
import MailfleetCore
import MailfleetRedis

/// The fleet-wide pace of provider accounts that answered 429: one string per account,
/// `<paced until ms>:<last backoff ms>`, changed only by one Lua script doing `AccountPacing`'s
/// arithmetic atomically, so a 429 seen by one worker slows every replica. The time is an
/// argument (milliseconds), never Redis's clock, so the script and the pure policy can be
/// checked against each other; the key expires by itself a little after the pace is forgotten.
public struct AccountPacingStore: Sendable {
    private let redis: RedisClient
    private let prefix: String
    /// Real time a key outlives its pace's memory, so Redis's expiry never beats the script's
    /// own check. 1,000 ms; a test comparing the script with the pure policy on made-up clocks
    /// that run faster than real time sets it long, so only the script's check forgets.
    private let expirySlackMs: Int

    /// Creates a store whose keys start with `prefix` (`mf` by default).
    public init(redis: RedisClient, prefix: String = "mf", expirySlackMs: Int = 1_000) {
        self.redis = redis
        self.prefix = prefix
        self.expirySlackMs = max(1, expirySlackMs)
    }

    /// The string holding `account`'s pace; in the same hash slot as its circuit breaker.
    public func key(_ account: UUID) -> String {
        "\(prefix):{cb:\(account.uuidString.lowercased())}:paced"
    }

    /// `AccountPacing.throttled` on the fleet's state of `account`: records a 429 answered at
    /// `nowMs` (with its Retry-After in milliseconds, if any) and returns the pace now in force.
    public func throttled(account: UUID, retryAfterMs: Int?, pacing: AccountPacing, nowMs: Int) async throws -> AccountPacing.State {
        let arguments = [
            "\(nowMs)", "\(retryAfterMs.map { max(0, $0) } ?? -1)", "\(pacing.baseMs)", "\(pacing.maxMs)",
            "\(pacing.retryAfterMaxMs)", "\(pacing.memoryMs)", "\(expirySlackMs)",
        ]
        let reply = try await redis.evaluate(Self.script, keys: [key(account)], arguments: arguments)
        guard let fields = reply.array, fields.count == 2, let until = fields[0].int, let backoff = fields[1].int else {
            throw RedisError(message: "unexpected account pacing reply \(reply)")
        }
        return AccountPacing.State(pacedUntilMs: until, backoffMs: backoff)
    }

    /// The pace stored for `account` (nil when none): one GET, for workers asking before a call.
    public func state(account: UUID) async throws -> AccountPacing.State? {
        guard let text = try await redis.command("GET", key(account)).string else { return nil }
        let parts = text.split(separator: ":")
        guard parts.count == 2, let until = Int(parts[0]), let backoff = Int(parts[1]) else {
            throw RedisError(message: "unexpected account pace \(text)")
        }
        return AccountPacing.State(pacedUntilMs: until, backoffMs: backoff)
    }

    /// ARGV: now, Retry-After in ms (-1 when none), base, max, longest Retry-After, memory,
    /// expiry slack (ms). A stored pace whose memory has run out counts as none. Kept until its
    /// memory ends, plus the slack so the expiry never beats the check above.
    static let script = RedisScript("""
        local key = KEYS[1]
        local now = tonumber(ARGV[1])
        local retry_after = tonumber(ARGV[2])
        local base = tonumber(ARGV[3])
        local cap = tonumber(ARGV[4])
        local retry_after_max = tonumber(ARGV[5])
        local memory = tonumber(ARGV[6])
        local slack = tonumber(ARGV[7])
        local paced_until, backoff = 0, 0
        local stored = redis.call('GET', key)
        if stored then
          local sep = string.find(stored, ':', 1, true)
          if sep then
            local u = tonumber(string.sub(stored, 1, sep - 1))
            local b = tonumber(string.sub(stored, sep + 1))
            if u and b and now < u + memory then paced_until, backoff = u, b end
          end
        end
        if retry_after >= 0 then
          paced_until = math.max(paced_until, now + math.min(retry_after, retry_after_max))
        elseif now >= paced_until then
          if backoff > 0 then backoff = math.min(cap, backoff * 2) else backoff = base end
          paced_until = now + backoff
        end
        redis.call('SET', key, string.format('%d:%d', paced_until, backoff), 'PX', math.max(1, paced_until - now + memory + slack))
        return {paced_until, backoff}
        """)
}
