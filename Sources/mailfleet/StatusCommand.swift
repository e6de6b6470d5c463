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

    func run() async throws {
        let counts = try await database.withPool { try await MessageStore(pool: $0).countsByStatus() }
        print("messages:")
        for status in MessageStatus.allCases { print("  \(status.rawValue)\t\(counts[status.rawValue] ?? 0)") }
        let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
        defer { redis.shutdown() }
        let depth = try await MessageQueue(redis: redis, partitioning: Partitioning(count: try queue.partitions)).depth()
        print("queue:")
        print("  ready (transactional)\t\(depth.readyTransactional)")
        print("  ready (bulk)\t\(depth.readyBulk)")
        print("  leased\t\(depth.leased)")
        print("  delayed\t\(depth.delayed)")
    }
}
