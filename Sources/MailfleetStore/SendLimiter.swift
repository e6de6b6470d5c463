import Foundation
import MailfleetCore
import MailfleetRedis

/// Fleet-wide send rates in Redis, shared by every worker replica: one string per limit
/// holding its theoretical arrival time in epoch microseconds, changed only by one Lua script
/// doing `SendRate`'s arithmetic. Each limit's key has a hash tag of its own, so on Redis
/// Cluster limits spread over nodes and each script touches one slot. The clock is Redis's
/// (`TIME`), so replicas' clocks do not matter; a caller may pass the time instead (tests).
///
///     mf:{sl:<subject>}          STRING  TAT (µs), expiring when the bucket is full again
///     mf:{sl:<subject>}:booked   STRING  the end of the tokens booked for held messages (µs)
///
/// Subjects: `acct:<account id>:msg`, `acct:<account id>:call`, `acct:<account id>:mbx:<group>`,
/// `tenant:<tenant id>:msg`.
public struct SendLimiter: Sendable {
    private let redis: RedisClient
    private let prefix: String

    /// Creates a limiter whose keys start with `prefix` (`mf` by default).
    public init(redis: RedisClient, prefix: String = "mf") {
        self.redis = redis
        self.prefix = prefix
    }

    /// Creates a limiter on the queue's Redis.
    public init(sharing queue: MessageQueue) {
        self.init(redis: queue.redis, prefix: queue.prefix)
    }

    /// The key of `subject`'s limit.
    public func key(_ subject: String) -> String { "\(prefix):{sl:\(subject)}" }

    /// One request to a limit: take (or give back) `count` tokens of `rate` for `subject`.
    public struct Request: Sendable, Hashable {
        /// What is limited, e.g. `acct:<id>:msg`.
        public var subject: String
        /// The rate.
        public var rate: SendRate
        /// Tokens.
        public var count: Int

        /// Creates a request.
        public init(subject: String, rate: SendRate, count: Int) {
            self.subject = subject
            self.rate = rate
            self.count = count
        }
    }

    /// An answer: the decision, and the time (µs) it was made at.
    public struct Answer: Sendable, Equatable {
        /// Tokens admitted, the TAT stored and the wait for the next token.
        public var decision: SendRateDecision
        /// Redis's time (or the one given), epoch µs.
        public var nowUs: Int
    }

    /// Takes tokens from each limit, all in one round trip (one script call per limit).
    public func take(_ requests: [Request], nowUs: Int? = nil) async throws -> [Answer] {
        let replies = try await redis.evaluatePipelined(requests.map { request in
            (Self.script, [key(request.subject), key(request.subject) + ":booked"], ["take", "\(request.count)", "\(request.rate.intervalUs)", "\(request.rate.toleranceUs)", nowUs.map(String.init) ?? ""])
        })
        return try replies.map(Self.answer)
    }

    /// Gives back tokens taken but not used, all in one round trip.
    public func giveBack(_ requests: [Request], nowUs: Int? = nil) async throws {
        guard !requests.isEmpty else { return }
        let replies = try await redis.evaluatePipelined(requests.map { request in
            (Self.script, [key(request.subject), key(request.subject) + ":booked"], ["give", "\(request.count)", "\(request.rate.intervalUs)", "\(request.rate.toleranceUs)", nowUs.map(String.init) ?? ""])
        })
        for reply in replies { _ = try Self.answer(reply) }
    }

    /// The TAT stored for `subject` (nil when none): for tests and inspection.
    public func tatUs(_ subject: String) async throws -> Int? {
        try await redis.command("GET", key(subject)).string.flatMap { Int($0) }
    }

    private static func answer(_ reply: RedisValue) throws -> Answer {
        guard let values = reply.array?.compactMap(\.int), values.count == 6 else {
            throw RedisError(message: "unexpected send limit reply \(reply)")
        }
        return Answer(
            decision: SendRateDecision(admitted: values[0], tatUs: values[2], nextFreeUs: values[1], heldWaitUs: values[4], bookedUs: values[5]),
            nowUs: values[3])
    }

    /// ARGV: mode (`take` or `give`), count, interval µs, tolerance µs, now µs (empty: Redis's
    /// TIME). Returns {admitted, next free µs, TAT µs, now µs, held wait µs, booked µs}.
    /// `take` is `SendRate.take` (KEYS[2] holds the booking);
    /// `give` is `SendRate.giveBack`. Integers only (below 2^53), printed with %d, so the
    /// script and the Swift twin agree to the microsecond. The key lives a second past its TAT
    /// (a TAT in the past means a full bucket, as an absent key does), so a caller whose clock
    /// reading reaches Redis late never finds it gone while its TAT is still ahead of that reading.
    static let script = RedisScript("""
        local mode = ARGV[1]
        local count = tonumber(ARGV[2])
        local interval = tonumber(ARGV[3])
        local tolerance = tonumber(ARGV[4])
        local now
        if ARGV[5] == '' then
          local t = redis.call('TIME')
          now = tonumber(t[1]) * 1000000 + tonumber(t[2])
        else
          now = tonumber(ARGV[5])
        end
        local stored = tonumber(redis.call('GET', KEYS[1]) or now)
        local tat
        local admitted = 0
        if mode == 'give' then
          tat = math.max(now, stored - math.max(0, count) * interval)
        else
          tat = math.max(stored, now)
          local room = now + tolerance - tat
          if room >= 0 then admitted = math.min(math.max(0, count), math.floor(room / interval)) end
          tat = tat + admitted * interval
        end
        if tat > now then
          redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.floor((tat - now) / 1000) + 1000)
        else
          redis.call('DEL', KEYS[1])
        end
        local next_free = math.max(0, tat + interval - tolerance - now)
        local booked = tonumber(redis.call('GET', KEYS[2]) or 0)
        if booked <= now then booked = 0 end
        local held_wait = next_free
        local held = math.max(0, count) - admitted
        if mode ~= 'give' and held > 0 then
          local start = math.max(booked, tat)
          held_wait = math.max(0, start + interval - tolerance - now)
          booked = start + held * interval
          redis.call('SET', KEYS[2], string.format('%d', booked), 'PX', math.floor((booked - now) / 1000) + 1000)
        end
        return {admitted, next_free, tat, now, held_wait, booked}
        """)
}
