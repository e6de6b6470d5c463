import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore

/// `mailfleet-bench queue-fetch`: the fair-share fetch's cost with a given number of tenants
/// holding a backlog. Fills one partition of a scratch prefix with `messages` bulk entries
/// spread evenly over `tenants`, then drains it with fetches of `batch`, and reports Redis's
/// own time per fetch script call (INFO commandstats, so the client's build does not count)
/// and per message, with the wall time per fetch as the client saw it.
struct QueueFetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queue-fetch", abstract: "Fair-share fetch cost with many backlogged tenants.")
    @Option(help: "Redis URL (a scratch Redis: its command statistics are reset).") var redisURL: String
    @Option(help: "Tenants with a backlog.") var tenants = 10
    @Option(help: "Messages in all, spread evenly over the tenants.") var messages = 200_000
    @Option(help: "Entries per fetch.") var batch = 500
    @Option(help: "Entries per turn of a tenant (the fair-share quantum).") var quantum = 50

    struct Result: Encodable {
        var tenants: Int
        var messages: Int
        var batch: Int
        var quantum: Int
        var fetches: Int
        var redisMicrosecondsPerFetch: Double
        var redisMicrosecondsPerMessage: Double
        var wallMillisecondsPerFetch: Double
    }

    func run() async throws {
        let redis = RedisClient(url: redisURL, connections: 1, name: "bench-queue")
        defer { redis.shutdown() }
        let prefix = "bench-fair-\(UUID().uuidString.prefix(6))"
        let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 1), prefix: prefix, fairness: .init(quantum: quantum))
        let owners = (0..<tenants).map { _ in UUID() }
        var items: [MessageQueue.Item] = []
        for i in 0..<messages {
            items.append(.init(id: UUID(), priority: .bulk, tenantID: owners[i % tenants]))
            if items.count == 1000 {
                try await queue.enqueue(items)
                items.removeAll(keepingCapacity: true)
            }
        }
        try await queue.enqueue(items)
        _ = try await redis.command("CONFIG", "RESETSTAT")
        var fetches = 0
        var fetched = 0
        let started = ContinuousClock.now
        while true {
            let got = try await queue.fetch(partition: 0, max: batch, leaseSeconds: 600)
            if got.isEmpty { break }
            fetches += 1
            fetched += got.count
        }
        let wall = ContinuousClock.now - started
        let stats = try await redis.command("INFO", "commandstats").string ?? ""
        // cmdstat_evalsha:calls=N,usec=U,usec_per_call=...
        let line = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_evalsha:") } ?? ""
        var fields: [String: Double] = [:]
        for pair in line.dropFirst("cmdstat_evalsha:".count).split(separator: ",") {
            let parts = pair.split(separator: "=")
            if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
        }
        let usec = fields["usec"] ?? 0
        let calls = max(1, fields["calls"] ?? 1)
        _ = try await redis.command("DEL", queue.keys(0).leased, queue.keys(0).tenants)
        let result = Result(
            tenants: tenants, messages: fetched, batch: batch, quantum: quantum, fetches: fetches,
            redisMicrosecondsPerFetch: usec / calls, redisMicrosecondsPerMessage: usec / Double(max(1, fetched)),
            wallMillisecondsPerFetch: (Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18) * 1000 / Double(max(1, fetches)))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        print(String(decoding: try encoder.encode(result), as: UTF8.self))
    }
}
