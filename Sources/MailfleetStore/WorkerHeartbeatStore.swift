import Foundation
import MailfleetCore
import MailfleetRedis

/// Workers' heartbeats in Redis, written by each worker and read by the status page.
///
///     mf:worker:<id>  STRING  the heartbeat as JSON; expires by itself, so a dead worker's goes
///     mf:workers      ZSET    worker ids scored by their latest heartbeat (ms), to find them
///                             without SCAN; ids silent for ten minutes are trimmed on read
public struct WorkerHeartbeatStore: Sendable {
    let redis: RedisClient
    /// The key prefix, `mf` by default.
    public let prefix: String

    /// Creates the store over a Redis client.
    public init(redis: RedisClient, prefix: String = "mf") {
        self.redis = redis
        self.prefix = prefix
    }

    /// The store on the queue's Redis under the queue's prefix: heartbeats sit beside the work.
    public init(beside queue: MessageQueue) {
        self.init(redis: queue.redis, prefix: queue.prefix)
    }

    /// The key holding one worker's heartbeat.
    public func key(worker id: String) -> String { "\(prefix):worker:\(id)" }
    /// The index of worker ids.
    public var index: String { "\(prefix):workers" }

    /// How long an id may stay in the index after its last heartbeat.
    static let forgetAfterMs = 600_000

    /// Writes a heartbeat that expires `ttlMs` from now.
    public func beat(_ heartbeat: WorkerHeartbeat, ttlMs: Int) async throws {
        let json = String(decoding: try JSONEncoder().encode(heartbeat), as: UTF8.self)
        try check(try await redis.pipeline([
            ["SET", key(worker: heartbeat.id), json, "PX", String(ttlMs)],
            ["ZADD", index, String(heartbeat.beatAtMs), heartbeat.id],
        ]))
    }

    /// Removes a worker's heartbeat at once (on graceful shutdown), so it stops counting as alive.
    public func remove(worker id: String) async throws {
        try check(try await redis.pipeline([["DEL", key(worker: id)], ["ZREM", index, id]]))
    }

    /// The heartbeats written since `sinceMs` that have not expired, in two round trips.
    public func heartbeats(sinceMs: Int, nowMs: Int) async throws -> [WorkerHeartbeat] {
        let listed = try await redis.pipeline([
            ["ZREMRANGEBYSCORE", index, "-inf", "(\(nowMs - Self.forgetAfterMs)"],
            ["ZRANGEBYSCORE", index, String(sinceMs), "+inf"],
        ])
        try check(listed)
        let ids = (listed[1].array ?? []).compactMap(\.string)
        guard !ids.isEmpty else { return [] }
        let records = try await redis.pipeline(ids.map { ["GET", key(worker: $0)] })
        try check(records)
        let decoder = JSONDecoder()
        // An expired record (nil) is a worker that died between the two reads; an unreadable one
        // is skipped rather than hiding every other worker.
        return records.compactMap { $0.string.flatMap { try? decoder.decode(WorkerHeartbeat.self, from: Data($0.utf8)) } }
    }

    private func check(_ replies: [RedisValue]) throws {
        for reply in replies {
            if case .error(let message) = reply { throw RedisError(message: message) }
        }
    }
}
