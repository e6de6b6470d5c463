import Foundation
import MailfleetCore
import MailfleetRedis

/// The fleet's count of messages sent today (UTC) per tenant and warming-up sending domain, in
/// Redis: a reservation takes up to what today's cap leaves, atomically, and what was
/// reserved but not sent is given back, so the count is of messages providers accepted. A
/// worker killed between the two leaves its reservation counted: the cap is never passed,
/// a day may send a few less. If Redis loses the keys, the day's count starts again from
/// zero, so that day may send up to one more day's cap (docs/FLOW.md). Transactional mail
/// reserves under `WarmupSchedule.uncapped`: it always gets its places, and counts, so bulk
/// gets only what it leaves.
///
///     mf:{wu:<tenant id>:<domain>}:<day number>   STRING count, expiring two days later
public struct WarmupCounter: Sendable {
    private let redis: RedisClient
    private let prefix: String

    /// Creates a counter whose keys start with `prefix` (`mf` by default).
    public init(redis: RedisClient, prefix: String = "mf") {
        self.redis = redis
        self.prefix = prefix
    }

    /// Creates a counter on the queue's Redis.
    public init(sharing queue: MessageQueue) {
        self.init(redis: queue.redis, prefix: queue.prefix)
    }

    /// The key of a domain's count on `day` (days since 1970, UTC).
    public func key(tenantID: UUID, domain: String, day: Int) -> String {
        "\(prefix):{wu:\(tenantID.lowercasedString):\(domain)}:\(day)"
    }

    /// One domain's reservation (or return) on one day.
    public struct Request: Sendable, Hashable {
        /// The tenant.
        public var tenantID: UUID
        /// The sending domain.
        public var domain: String
        /// Days since 1970, UTC.
        public var day: Int
        /// Messages.
        public var count: Int
        /// Today's cap (ignored when giving back); `WarmupSchedule.uncapped` for mail the cap never holds.
        public var cap: Int

        /// Creates a request.
        public init(tenantID: UUID, domain: String, day: Int, count: Int, cap: Int) {
            self.tenantID = tenantID
            self.domain = domain
            self.day = day
            self.count = count
            self.cap = cap
        }
    }

    /// Reserves up to `count` under `cap` for each request, in one round trip; returns how many each got.
    public func reserve(_ requests: [Request]) async throws -> [Int] {
        let replies = try await redis.evaluatePipelined(requests.map {
            (Self.script, [key(tenantID: $0.tenantID, domain: $0.domain, day: $0.day)], ["take", "\($0.count)", "\($0.cap)"])
        })
        return try replies.map(Self.first)
    }

    /// Gives back reservations not sent, in one round trip.
    public func giveBack(_ requests: [Request]) async throws {
        guard !requests.isEmpty else { return }
        let replies = try await redis.evaluatePipelined(requests.map {
            (Self.script, [key(tenantID: $0.tenantID, domain: $0.domain, day: $0.day)], ["give", "\($0.count)", "0"])
        })
        for reply in replies { _ = try Self.first(reply) }
    }

    /// The counts of a tenant's domains on `day` (0 for none), one round trip.
    public func counts(tenantID: UUID, domains: [String], day: Int) async throws -> [String: Int] {
        guard !domains.isEmpty else { return [:] }
        let replies = try await redis.pipeline(domains.map { ["GET", key(tenantID: tenantID, domain: $0, day: day)] })
        var out: [String: Int] = [:]
        for (domain, reply) in zip(domains, replies) { out[domain] = reply.string.flatMap { Int($0) } ?? 0 }
        return out
    }

    private static func first(_ reply: RedisValue) throws -> Int {
        guard let values = reply.array?.compactMap(\.int), values.count == 2 else {
            throw RedisError(message: "unexpected warm-up count reply \(reply)")
        }
        return values[0]
    }

    /// ARGV: mode (`take` or `give`), count, cap. Returns {taken or given, count now}. Keys
    /// expire two days on, long after their day is over.
    static let script = RedisScript("""
        local count = tonumber(ARGV[2])
        local current = tonumber(redis.call('GET', KEYS[1]) or 0)
        local changed = 0
        if ARGV[1] == 'give' then
          changed = math.min(math.max(0, count), current)
          if changed > 0 then current = redis.call('DECRBY', KEYS[1], changed) end
        else
          changed = math.max(0, math.min(count, tonumber(ARGV[3]) - current))
          if changed > 0 then
            current = redis.call('INCRBY', KEYS[1], changed)
            redis.call('EXPIRE', KEYS[1], 172800)
          end
        end
        return {changed, current}
        """)
}
