import Foundation

extension Fleet {
    /// Runs `redis-cli` against this fleet's Redis database.
    func redisCLI(_ arguments: [String]) throws {
        let port = URL(string: redisURL)?.port ?? 6379
        let index = URL(string: redisURL)?.path.dropFirst() ?? "0"
        _ = try runToCompletion("/usr/bin/env", ["redis-cli", "-p", "\(port)", "-n", String(index)] + arguments, name: "redis-cli")
    }
}
