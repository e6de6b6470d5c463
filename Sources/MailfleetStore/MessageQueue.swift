import Foundation
import MailfleetCore
import MailfleetRedis

/// The dispatch plane in Redis. It carries message ids only: content and truth stay in Postgres.
///
/// Key layout (every key of a partition shares the hash tag `{pN}`, so one partition lives in
/// one Redis Cluster slot and partitions spread over nodes):
///
///     mf:{pN}:ready:t   LIST  transactional entries, FIFO
///     mf:{pN}:ready:b   LIST  bulk entries, FIFO
///     mf:{pN}:leased    ZSET  entries being sent, scored by lease deadline (ms)
///     mf:{pN}:delayed   ZSET  scheduled sends and retries, scored by due time (ms)
///     mf:{pN}:generation STRING `ready:<generation>` or `recovering:<generation>`: its absence
///                             tells the scheduler that the partition lost its entries
///
/// An entry is `<lane>:<uuid>` with lane `t` or `b`, so the lane survives a trip through the
/// leased and delayed sets. Dead letters are not kept here: Postgres's failed rows are their
/// record (see `MessageStore+DeadLetters`).
public struct MessageQueue: Sendable {
    let redis: RedisClient
    /// How messages map to partitions.
    public let partitioning: Partitioning
    /// The key prefix, `mf` by default.
    public let prefix: String

    /// Creates a queue over a Redis client.
    public init(redis: RedisClient, partitioning: Partitioning, prefix: String = "mf") {
        self.redis = redis
        self.partitioning = partitioning
        self.prefix = prefix
    }

    /// The keys of one partition.
    public struct Keys: Sendable {
        public let readyTransactional: String
        public let readyBulk: String
        public let leased: String
        public let delayed: String
        /// The generation marker (see `RedisLossRecovery`).
        public let generation: String
    }

    /// The keys of partition `p`.
    public func keys(_ p: Int) -> Keys {
        let tag = "\(prefix):{p\(p)}"
        return Keys(
            readyTransactional: "\(tag):ready:t", readyBulk: "\(tag):ready:b", leased: "\(tag):leased",
            delayed: "\(tag):delayed", generation: "\(tag):generation")
    }

    /// The queue entry of a message.
    public static func entry(id: UUID, priority: Priority) -> String {
        "\(priority.code):\(id.lowercasedString)"
    }

    /// The message id and lane of an entry, or nil for a malformed one.
    public static func parse(entry: String) -> (id: UUID, priority: Priority)? {
        guard entry.count > 2, let lane = entry.first.flatMap(Priority.init(code:)),
              let id = UUID(uuidString: String(entry.dropFirst(2))) else { return nil }
        return (id, lane)
    }

    // MARK: Producing

    /// A message to put on the queue: due now (ready) or at `dueAt` (delayed).
    public struct Item: Sendable, Equatable {
        public var id: UUID
        public var priority: Priority
        public var dueAt: Date?
        public init(id: UUID, priority: Priority, dueAt: Date? = nil) {
            self.id = id
            self.priority = priority
            self.dueAt = dueAt
        }
    }

    /// Enqueues many messages in one round trip (one command per partition and lane).
    public func enqueue(_ items: [Item], now: Date = Date()) async throws {
        guard !items.isEmpty else { return }
        var ready: [String: [String]] = [:]
        var delayed: [String: [String]] = [:]
        for item in items {
            let keys = keys(partitioning.partition(of: item.id))
            let entry = MessageQueue.entry(id: item.id, priority: item.priority)
            if let due = item.dueAt, due > now {
                delayed[keys.delayed, default: []] += [String(Int64(due.timeIntervalSince1970 * 1000)), entry]
            } else {
                ready[item.priority == .transactional ? keys.readyTransactional : keys.readyBulk, default: []].append(entry)
            }
        }
        var commands: [[String]] = []
        for (key, entries) in ready { commands.append(["RPUSH", key] + entries) }
        for (key, pairs) in delayed { commands.append(["ZADD", key] + pairs) }
        try checkReplies(try await redis.pipeline(commands))
    }

    // MARK: Consuming

    /// Takes up to `max` entries from partition `p`, transactional first, and leases them until
    /// `leaseSeconds` from now. Returns the message ids with their lanes.
    public func fetch(partition p: Int, max: Int, leaseSeconds: Double, now: Date = Date()) async throws -> [(id: UUID, priority: Priority)] {
        let k = keys(p)
        let deadline = Int64((now.timeIntervalSince1970 + leaseSeconds) * 1000)
        let reply = try await redis.evaluate(
            Scripts.fetch, keys: [k.readyTransactional, k.readyBulk, k.leased], arguments: [String(max), String(deadline)])
        return (reply.array ?? []).compactMap { $0.string.flatMap(MessageQueue.parse(entry:)) }
    }

    /// Removes finished messages (sent, failed, or not ours to send) from their leases.
    public func acknowledge(_ messages: [(id: UUID, priority: Priority)]) async throws {
        var byKey: [String: [String]] = [:]
        for m in messages {
            byKey[keys(partitioning.partition(of: m.id)).leased, default: []].append(MessageQueue.entry(id: m.id, priority: m.priority))
        }
        guard !byKey.isEmpty else { return }
        try checkReplies(try await redis.pipeline(byKey.map { ["ZREM", $0.key] + $0.value }))
    }

    /// Moves leased messages to the delayed set, due at their retry times.
    public func reschedule(_ messages: [(id: UUID, priority: Priority, dueAt: Date)]) async throws {
        var calls: [(script: RedisScript, keys: [String], arguments: [String])] = []
        var byPartition: [Int: [String]] = [:]
        for m in messages {
            byPartition[partitioning.partition(of: m.id), default: []] += [
                String(Int64(m.dueAt.timeIntervalSince1970 * 1000)), MessageQueue.entry(id: m.id, priority: m.priority),
            ]
        }
        for (p, args) in byPartition {
            let k = keys(p)
            calls.append((Scripts.reschedule, [k.leased, k.delayed], args))
        }
        guard !calls.isEmpty else { return }
        try checkReplies(try await redis.evaluatePipelined(calls))
    }

    /// Removes dead-lettered messages from their leases. Their record is the failed row in
    /// Postgres (status, reason, time), written before this is called; the reasons are not
    /// needed here, and a second copy in Redis would only grow.
    public func deadLetter(_ messages: [(id: UUID, priority: Priority, reason: String)]) async throws {
        try await acknowledge(messages.map { ($0.id, $0.priority) })
    }

    // MARK: Scheduling

    /// Moves due delayed entries of partition `p` to its ready lists; returns how many.
    @discardableResult
    public func promoteDue(partition p: Int, limit: Int = 5000, now: Date = Date()) async throws -> Int {
        let k = keys(p)
        let reply = try await redis.evaluate(
            Scripts.promote, keys: [k.delayed, k.readyTransactional, k.readyBulk],
            arguments: [String(Int64(now.timeIntervalSince1970 * 1000)), String(limit)])
        return reply.int ?? 0
    }

    /// Puts entries whose lease expired (their worker died) back at the front of the ready
    /// lists of partition `p`; returns how many.
    @discardableResult
    public func reclaimExpired(partition p: Int, limit: Int = 5000, now: Date = Date()) async throws -> Int {
        let k = keys(p)
        let reply = try await redis.evaluate(
            Scripts.reclaim, keys: [k.leased, k.readyTransactional, k.readyBulk],
            arguments: [String(Int64(now.timeIntervalSince1970 * 1000)), String(limit)])
        return reply.int ?? 0
    }

    /// Entries per state, summed over partitions. Dead letters are counted in Postgres
    /// (`MessageStore.countDeadLetters`).
    public func depth() async throws -> QueueDepth {
        var commands: [[String]] = []
        for p in 0..<partitioning.count {
            let k = keys(p)
            commands += [["LLEN", k.readyTransactional], ["LLEN", k.readyBulk], ["ZCARD", k.leased], ["ZCARD", k.delayed]]
        }
        let replies = try await redis.pipeline(commands)
        try checkReplies(replies)
        var depth = QueueDepth()
        for p in 0..<partitioning.count {
            let base = p * 4
            depth.readyTransactional += replies[base].int ?? 0
            depth.readyBulk += replies[base + 1].int ?? 0
            depth.leased += replies[base + 2].int ?? 0
            depth.delayed += replies[base + 3].int ?? 0
        }
        return depth
    }

    // MARK: Generation markers

    /// The generation markers of all partitions taken together, read in one round trip.
    public func generationMarker() async throws -> RedisLossRecovery.Marker {
        let replies = try await redis.pipeline((0..<partitioning.count).map { ["GET", keys($0).generation] })
        try checkReplies(replies)
        return .combined(replies.map { RedisLossRecovery.Marker(stored: $0.string) })
    }

    /// Marks every partition as recovering under `generation`.
    public func markRecovering(generation: String) async throws {
        let stored = RedisLossRecovery.Marker.recovering(generation: generation).stored ?? ""
        try checkReplies(try await redis.pipeline((0..<partitioning.count).map { ["SET", keys($0).generation, stored] }))
    }

    /// Marks ready every partition still recovering under `generation`; true when all were.
    /// A partition that lost its marker meanwhile, or that another leader's recovery took
    /// over, is left as it is, so the next check sees it.
    @discardableResult
    public func markReady(generation: String) async throws -> Bool {
        let from = RedisLossRecovery.Marker.recovering(generation: generation).stored ?? ""
        let to = RedisLossRecovery.Marker.ready(generation: generation).stored ?? ""
        let replies = try await redis.evaluatePipelined(
            (0..<partitioning.count).map { (script: Scripts.markReady, keys: [keys($0).generation], arguments: [from, to]) })
        try checkReplies(replies)
        return replies.allSatisfy { $0.int == 1 }
    }

    private func checkReplies(_ replies: [RedisValue]) throws {
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(message: message) }
        }
    }
}

/// How many entries are in each state.
public struct QueueDepth: Sendable, Equatable {
    public var readyTransactional = 0
    public var readyBulk = 0
    public var leased = 0
    public var delayed = 0
    public init() {}
    /// Everything not yet finished.
    public var total: Int { readyTransactional + readyBulk + leased + delayed }
}

/// The Lua scripts that make queue moves atomic.
enum Scripts {
    // KEYS: ready:t, ready:b, leased. ARGV: max, lease deadline (ms).
    static let fetch = RedisScript("""
        local out = {}
        local want = tonumber(ARGV[1])
        for i = 1, 2 do
          local need = want - #out
          if need <= 0 then break end
          local items = redis.call('LPOP', KEYS[i], need)
          if items then
            for _, v in ipairs(items) do out[#out + 1] = v end
          end
        end
        if #out > 0 then
          local args = {}
          for _, v in ipairs(out) do args[#args + 1] = ARGV[2]; args[#args + 1] = v end
          redis.call('ZADD', KEYS[3], unpack(args))
        end
        return out
        """)

    // KEYS: delayed, ready:t, ready:b. ARGV: now (ms), limit.
    static let promote = RedisScript("""
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        if #due == 0 then return 0 end
        local t, b = {}, {}
        for _, v in ipairs(due) do
          if string.sub(v, 1, 1) == 't' then t[#t + 1] = v else b[#b + 1] = v end
        end
        if #t > 0 then redis.call('RPUSH', KEYS[2], unpack(t)) end
        if #b > 0 then redis.call('RPUSH', KEYS[3], unpack(b)) end
        redis.call('ZREM', KEYS[1], unpack(due))
        return #due
        """)

    // KEYS: leased, ready:t, ready:b. ARGV: now (ms), limit. Reclaimed work goes to the front.
    static let reclaim = RedisScript("""
        local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        if #expired == 0 then return 0 end
        local t, b = {}, {}
        for _, v in ipairs(expired) do
          if string.sub(v, 1, 1) == 't' then t[#t + 1] = v else b[#b + 1] = v end
        end
        if #t > 0 then redis.call('LPUSH', KEYS[2], unpack(t)) end
        if #b > 0 then redis.call('LPUSH', KEYS[3], unpack(b)) end
        redis.call('ZREM', KEYS[1], unpack(expired))
        return #expired
        """)

    // KEYS: leased, delayed. ARGV: due1, entry1, due2, entry2, ...
    static let reschedule = RedisScript("""
        local entries = {}
        for i = 2, #ARGV, 2 do entries[#entries + 1] = ARGV[i] end
        redis.call('ZREM', KEYS[1], unpack(entries))
        redis.call('ZADD', KEYS[2], unpack(ARGV))
        return #entries
        """)

    // KEYS: generation. ARGV: expected value, new value. Compare-and-set.
    static let markReady = RedisScript("""
        if redis.call('GET', KEYS[1]) == ARGV[1] then
          redis.call('SET', KEYS[1], ARGV[2])
          return 1
        end
        return 0
        """)
}
