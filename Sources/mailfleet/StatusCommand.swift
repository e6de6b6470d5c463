import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Message counts by status and queue depths.")
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Redis URL (MAILFLEET_REDIS_URL).")
    var redisURL = ProcessInfo.processInfo.environment["MAILFLEET_REDIS_URL"] ?? "redis://127.0.0.1:16379/0"
    @Option(help: "Queue partitions (MAILFLEET_PARTITIONS).")
    var partitions = Int(ProcessInfo.processInfo.environment["MAILFLEET_PARTITIONS"] ?? "") ?? 8

    func run() async throws {
        let counts = try await database.withPool { try await MessageStore(pool: $0).countsByStatus() }
        print("messages:")
        for status in MessageStatus.allCases { print("  \(status.rawValue)\t\(counts[status.rawValue] ?? 0)") }
        let redis = RedisClient(url: redisURL, connections: 1, name: "cli-redis")
        defer { redis.shutdown() }
        let depth = try await MessageQueue(redis: redis, partitioning: Partitioning(count: partitions)).depth()
        print("queue:")
        print("  ready (transactional)\t\(depth.readyTransactional)")
        print("  ready (bulk)\t\(depth.readyBulk)")
        print("  leased\t\(depth.leased)")
        print("  delayed\t\(depth.delayed)")
        print("  dead\t\(depth.dead)")
    }
}
