import Foundation
import MailfleetCore
import MailfleetRedis

/// The dispatch plane in Redis. It carries message ids only: content and truth stay in Postgres.
///
/// Key layout (every key of a partition shares the hash tag `{pN}`, so one partition lives in
/// one Redis Cluster slot and partitions spread over nodes; `L` is a lane, `t` or `b`):
///
///     mf:{pN}:ready:L:<tenant> LIST  a tenant's ready entries of lane L, FIFO
///     mf:{pN}:ring:L      LIST  tenants with ready entries in lane L, in fair-share visiting order
///     mf:{pN}:deficit:L   HASH  tenant → entries left of its current visit (head of the ring only)
///     mf:{pN}:backlog:L   ZSET  tenant → its ready entries in lane L (metrics: top tenants)
///     mf:{pN}:count       HASH  lane → ready entries in the tenants' lists (depth without a scan)
///     mf:{pN}:first:b     HASH  tenant → when its bulk list last became non-empty (ms)
///     mf:{pN}:last:b      HASH  tenant → when an entry last joined its bulk list (ms): the linger
///     mf:{pN}:tenant      HASH  entry → tenant, for every entry on the queue (ready, leased or
///                               delayed), so promotion and reclaim find the entry's list
///     mf:{pN}:weights     HASH  tenant → fair-share weight, for tenants not at the default 1
///                               (written by the scheduler from Postgres); `*` → the heaviest
///     mf:{pN}:held:L      ZSET  tenant → until when a send limit holds it in lane L (ms, Redis's clock)
///     mf:{pN}:parked:L    ZSET  held tenants taken out of the ring, by when they are due back (ms)
///     mf:{pN}:allow:L     HASH  tenant → the most its next turn takes after a hold (doubles per turn)
///     mf:{pN}:ready:L     LIST  entries of the layout before fair share (no tenant known),
///                               fetched first until empty
///     mf:{pN}:leased      ZSET  entries being sent, scored by lease deadline (ms)
///     mf:{pN}:delayed     ZSET  scheduled sends and retries, scored by due time (ms)
///     mf:{pN}:generation  STRING `ready:<generation>` or `recovering:<generation>`: its absence
///                               tells the scheduler that the partition lost its entries
///
/// An entry is `<lane>:<uuid>` with lane `t` or `b`, so the lane survives a trip through the
/// leased and delayed sets; its tenant is in the `tenant` hash. Dead letters are not kept here:
/// Postgres's failed rows are their record (see `MessageStore+DeadLetters`).
public struct MessageQueue: Sendable {
    let redis: RedisClient
    /// How messages map to partitions.
    public let partitioning: Partitioning
    /// The key prefix, `mf` by default.
    public let prefix: String
    /// How a fetch shares a partition between lanes and tenants.
    public let fairness: Fairness

    /// Creates a queue over a Redis client.
    public init(redis: RedisClient, partitioning: Partitioning, prefix: String = "mf", fairness: Fairness = Fairness()) {
        self.redis = redis
        self.partitioning = partitioning
        self.prefix = prefix
        self.fairness = fairness
    }

    /// How a fetch shares a partition (see `FairShare`, the pure twin of the fetch script).
    public struct Fairness: Sendable, Equatable {
        /// Entries a tenant of weight 1 takes per visit of the ring. Default 50.
        public var quantum: Int
        /// Percent of every fetch kept for bulk while bulk has work, so it never starves. Default 10.
        public var bulkMinimumPercent: Int
        /// How long a tenant's bulk waits for more of its kind after the newest arrived (and at
        /// most four times this after the oldest), so provider calls are full. Default 0: no wait.
        public var bulkLingerMs: Int
        /// Bulk entries of one tenant in a partition that are ripe whatever their age: the most
        /// a provider call takes. Default 1,000.
        public var bulkFull: Int
        /// The longest turn: the quantum shrinks when the heaviest weight would give a longer
        /// one (`FairShare.unit`). Default 1,000.
        public var maxTurn: Int
        /// The defaults.
        public init(quantum: Int = 50, bulkMinimumPercent: Int = 10, bulkLingerMs: Int = 0, bulkFull: Int = 1000, maxTurn: Int = FairShare.defaultMaxTurn) {
            self.quantum = max(1, quantum)
            self.bulkMinimumPercent = min(100, max(0, bulkMinimumPercent))
            self.bulkLingerMs = max(0, bulkLingerMs)
            self.bulkFull = max(1, bulkFull)
            self.maxTurn = max(1, maxTurn)
        }
    }

    /// The keys of one partition.
    public struct Keys: Sendable {
        /// The prefix every key of the partition starts with, `mf:{pN}:`.
        public let tag: String
        /// The old layout's transactional list (entries without a known tenant).
        public let readyTransactional: String
        /// The old layout's bulk list (entries without a known tenant).
        public let readyBulk: String
        public let leased: String
        public let delayed: String
        /// The generation marker (see `RedisLossRecovery`).
        public let generation: String
        /// Entry → tenant.
        public let tenants: String
        /// Tenant → weight.
        public let weights: String
        /// Lane → ready entries in tenants' lists.
        public let count: String

        /// A tenant's ready list in `lane`.
        public func ready(_ lane: Priority, tenant: UUID) -> String { "\(tag)ready:\(lane.code):\(tenant.lowercasedString)" }
        /// The ring of tenants with work in `lane`.
        public func ring(_ lane: Priority) -> String { "\(tag)ring:\(lane.code)" }
        /// Tenants' backlogs in `lane`.
        public func backlog(_ lane: Priority) -> String { "\(tag)backlog:\(lane.code)" }
    }

    /// The keys of partition `p`.
    public func keys(_ p: Int) -> Keys {
        let tag = "\(prefix):{p\(p)}:"
        return Keys(
            tag: tag, readyTransactional: "\(tag)ready:t", readyBulk: "\(tag)ready:b", leased: "\(tag)leased",
            delayed: "\(tag)delayed", generation: "\(tag)generation", tenants: "\(tag)tenant", weights: "\(tag)weights",
            count: "\(tag)count")
    }

    /// The queue entry of a message.
    public static func entry(id: UUID, priority: Priority) -> String {
        "\(priority.code):\(id.lowercasedString)"
    }

    /// A time as the scripts take it: milliseconds since 1970, rounded.
    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    /// The time argument of a script that reads the clock: the one given, or empty for Redis's
    /// own (`Scripts.clock`), so no host's clock skew lengthens or shortens a linger or a hold.
    static func scriptTime(_ date: Date?) -> String { date.map { String(milliseconds($0)) } ?? "" }

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
        /// The sending tenant: whose share of the lane the message takes.
        public var tenantID: UUID
        public var dueAt: Date?
        public init(id: UUID, priority: Priority, tenantID: UUID, dueAt: Date? = nil) {
            self.id = id
            self.priority = priority
            self.tenantID = tenantID
            self.dueAt = dueAt
        }
    }

    /// Enqueues many messages in one round trip (one script per partition). Arrival times (for
    /// the linger) are Redis's clock unless `now` is given (tests); due times are the caller's.
    public func enqueue(_ items: [Item], now given: Date? = nil) async throws {
        guard !items.isEmpty else { return }
        let now = given ?? Date()
        // Per partition: ready entries grouped by lane and tenant in their order, then delayed ones.
        var ready: [Int: [(lane: Priority, tenant: UUID, entries: [String])]] = [:]
        var delayed: [Int: [String]] = [:]
        for item in items {
            let p = partitioning.partition(of: item.id)
            let entry = MessageQueue.entry(id: item.id, priority: item.priority)
            if let due = item.dueAt, due > now {
                delayed[p, default: []] += [item.tenantID.lowercasedString, String(Int64(due.timeIntervalSince1970 * 1000)), entry]
            } else if let last = ready[p]?.indices.last, ready[p]![last].lane == item.priority, ready[p]![last].tenant == item.tenantID {
                ready[p]![last].entries.append(entry)
            } else {
                ready[p, default: []].append((item.priority, item.tenantID, [entry]))
            }
        }
        var calls: [(script: RedisScript, keys: [String], arguments: [String])] = []
        for p in Set(ready.keys).union(delayed.keys) {
            let k = keys(p)
            var arguments = [k.tag, MessageQueue.scriptTime(given), String(delayed[p]?.count ?? 0)] + (delayed[p] ?? [])
            for group in ready[p] ?? [] {
                arguments += [String(group.lane.code), group.tenant.lowercasedString, String(group.entries.count)] + group.entries
            }
            calls.append((Scripts.enqueue, [k.delayed, k.tenants], arguments))
        }
        try checkReplies(try await redis.evaluatePipelined(calls))
    }

    // MARK: Consuming

    /// Takes up to `max` entries from partition `p` and leases them until `leaseSeconds` from
    /// now: transactional first but for bulk's minimum share, each lane shared between tenants
    /// by weighted deficit round robin, bulk only once ripe (see `Fairness.bulkLingerMs`).
    /// Tenants held by a send limit (`hold`) are passed over until due. Lingers and holds are
    /// timed by Redis's clock unless `now` is given (tests); the lease deadline by the caller's.
    /// With `transactionalOnly`, takes transactional entries alone and leaves bulk as it is.
    /// Returns the message ids with their lanes.
    public func fetch(
        partition p: Int, max: Int, leaseSeconds: Double, now given: Date? = nil, transactionalOnly: Bool = false
    ) async throws -> [(id: UUID, priority: Priority)] {
        let call = fetchCall(partition: p, max: max, leaseSeconds: leaseSeconds, now: given, transactionalOnly: transactionalOnly)
        let reply = try await redis.evaluate(call.script, keys: call.keys, arguments: call.arguments)
        return MessageQueue.fetched(reply)
    }

    /// Takes up to `max` transactional entries from every partition in one round trip, at most
    /// `max / partitions` (rounded up) from each, so a transactional lane looks at the whole
    /// queue at the cost of one poll and its round stays within `max`.
    public func fetchTransactional(max: Int, leaseSeconds: Double, now given: Date? = nil) async throws -> [(id: UUID, priority: Priority)] {
        let count = partitioning.count
        let each = Swift.max(1, (max + count - 1) / count)
        let calls = (0..<count).map { fetchCall(partition: $0, max: each, leaseSeconds: leaseSeconds, now: given, transactionalOnly: true) }
        let replies = try await redis.evaluatePipelined(calls)
        let entries = replies.flatMap(MessageQueue.fetched)
        // Entries other partitions leased are returned even if one partition failed: thrown
        // away, they would wait out their lease. The failed partition is polled again next time.
        if entries.isEmpty { try checkReplies(replies) }
        return entries
    }

    private func fetchCall(
        partition p: Int, max: Int, leaseSeconds: Double, now given: Date?, transactionalOnly: Bool
    ) -> (script: RedisScript, keys: [String], arguments: [String]) {
        let k = keys(p)
        let now = given ?? Date()
        let deadline = Int64((now.timeIntervalSince1970 + leaseSeconds) * 1000)
        let reserve = FairShare.bulkReserve(max: max, percent: fairness.bulkMinimumPercent)
        return (
            Scripts.fetch, [k.leased],
            [
                k.tag, String(max), String(deadline), String(reserve), String(fairness.quantum), MessageQueue.scriptTime(given),
                String(fairness.bulkLingerMs), String(fairness.bulkFull), String(fairness.maxTurn), transactionalOnly ? "1" : "0",
            ]
        )
    }

    private static func fetched(_ reply: RedisValue) -> [(id: UUID, priority: Priority)] {
        (reply.array ?? []).compactMap { $0.string.flatMap(MessageQueue.parse(entry:)) }
    }

    /// Removes finished messages (sent, failed, or not ours to send) from their leases and
    /// forgets their tenants.
    public func acknowledge(_ messages: [(id: UUID, priority: Priority)]) async throws {
        var byPartition: [Int: [String]] = [:]
        for m in messages {
            byPartition[partitioning.partition(of: m.id), default: []].append(MessageQueue.entry(id: m.id, priority: m.priority))
        }
        guard !byPartition.isEmpty else { return }
        var commands: [[String]] = []
        for (p, entries) in byPartition {
            let k = keys(p)
            commands += [["ZREM", k.leased] + entries, ["HDEL", k.tenants] + entries]
        }
        try checkReplies(try await redis.pipeline(commands))
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

    /// Moves due delayed entries of partition `p` to their tenants' ready lists; returns how many.
    @discardableResult
    public func promoteDue(partition p: Int, limit: Int = 5000, now: Date = Date()) async throws -> Int {
        let k = keys(p)
        let reply = try await redis.evaluate(
            Scripts.promote, keys: [k.delayed, k.tenants],
            arguments: [k.tag, String(Int64(now.timeIntervalSince1970 * 1000)), String(limit)])
        return reply.int ?? 0
    }

    /// Puts entries whose lease expired (their worker died) back at the front of their
    /// tenants' ready lists in partition `p`; returns how many.
    @discardableResult
    public func reclaimExpired(partition p: Int, limit: Int = 5000, now: Date = Date()) async throws -> Int {
        let k = keys(p)
        let reply = try await redis.evaluate(
            Scripts.reclaim, keys: [k.leased, k.tenants],
            arguments: [k.tag, String(Int64(now.timeIntervalSince1970 * 1000)), String(limit)])
        return reply.int ?? 0
    }

    /// Entries per state, summed over partitions. Dead letters are counted in Postgres
    /// (`MessageStore.countDeadLetters`).
    public func depth() async throws -> QueueDepth {
        var commands: [[String]] = []
        for p in 0..<partitioning.count {
            let k = keys(p)
            commands += [
                ["LLEN", k.readyTransactional], ["LLEN", k.readyBulk], ["HMGET", k.count, "t", "b"], ["ZCARD", k.leased], ["ZCARD", k.delayed],
            ]
        }
        let replies = try await redis.pipeline(commands)
        try checkReplies(replies)
        var depth = QueueDepth()
        for p in 0..<partitioning.count {
            let base = p * 5
            let counts = replies[base + 2].array ?? []
            depth.readyTransactional += (replies[base].int ?? 0) + (counts.first?.int ?? 0)
            depth.readyBulk += (replies[base + 1].int ?? 0) + (counts.dropFirst().first?.int ?? 0)
            depth.leased += replies[base + 3].int ?? 0
            depth.delayed += replies[base + 4].int ?? 0
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

    func checkReplies(_ replies: [RedisValue]) throws {
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
