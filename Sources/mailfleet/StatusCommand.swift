import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Message counts by status and queue depths.")
    @OptionGroup var database: DatabaseOptions
    @OptionGroup var queue: QueueOptions
    @OptionGroup var output: OutputOptions

    /// What `--json` prints: one object.
    struct Report: Encodable {
        /// Messages in Postgres by status, every status present.
        var messages: [String: Int]
        var queue: Queue
    }

    /// Work in Redis.
    struct Queue: Encodable {
        var readyTransactional: Int
        var readyBulk: Int
        var leased: Int
        var delayed: Int
    }

    func run() async throws {
        let counts = try await database.withPool { try await MessageStore(pool: $0).countsByStatus() }
        let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
        defer { redis.shutdown() }
        let depth = try await MessageQueue(redis: redis, partitioning: Partitioning(count: try queue.partitions)).depth()
        let report = Report(
            messages: Dictionary(uniqueKeysWithValues: MessageStatus.allCases.map { ($0.rawValue, counts[$0.rawValue] ?? 0) }),
            queue: Queue(readyTransactional: depth.readyTransactional, readyBulk: depth.readyBulk, leased: depth.leased, delayed: depth.delayed))
        try output.print(report, empty: "") {
            var table = TextTable([.left("WHERE"), .left("WHAT"), .right("MESSAGES")])
            for status in MessageStatus.allCases { table.append(["postgres", status.rawValue, "\(report.messages[status.rawValue] ?? 0)"]) }
            table.append(["redis", "ready (transactional)", "\(depth.readyTransactional)"])
            table.append(["redis", "ready (bulk)", "\(depth.readyBulk)"])
            table.append(["redis", "leased", "\(depth.leased)"])
            table.append(["redis", "delayed", "\(depth.delayed)"])
            return table
        }
    }
}
