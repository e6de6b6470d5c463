import Foundation
import MailfleetRedis
import Testing

/// Integration tests of the hiredis wrapper against a real server (see TestEnvironment).
/// Serialized because SCRIPT FLUSH and the connection kills affect the whole server.
@Suite("Redis", .serialized)
struct RedisTests {
    /// A key prefix no other test (or concurrent test run) uses.
    private static func uniquePrefix(_ name: String) -> String {
        "mf-test:\(name):\(UUID().uuidString.lowercased()):"
    }

    @Test func basicCommands() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "rtest-basic")
        let p = Self.uniquePrefix("basic")
        #expect(try await redis.command("PING") == .status("PONG"))
        #expect(try await redis.command("SET", p + "k", "v") == .status("OK"))
        #expect(try await redis.command("GET", p + "k") == .string("v"))
        #expect(try await redis.command("GET", p + "missing") == .null)
        #expect(try await redis.command("INCRBY", p + "n", "5").int == 5)
        #expect(try await redis.command("GET", p + "n").int == 5)
        try await redis.command(["RPUSH", p + "list", "a", "b", "c"])
        #expect(try await redis.command("LRANGE", p + "list", "0", "-1").array == [.string("a"), .string("b"), .string("c")])
        #expect(try await redis.command("EXPIRE", p + "k", "60") == .integer(1))
        #expect(try await redis.command("PING").string == "PONG")
        do {
            try await redis.command("INCR", p + "k")
            Issue.record("INCR of a non-integer did not throw")
        } catch let error as RedisError {
            #expect(error.message.hasPrefix("ERR"))
            #expect(!error.isConnectionFailure)
        }
        await #expect(throws: RedisError.self) { try await redis.command([]) }
        // The connection is fine after error replies.
        #expect(try await redis.command("DEL", p + "k", p + "n", p + "list") == .integer(3))
        redis.shutdown()
        await #expect(throws: RedisError.self) { try await redis.command("PING") }
    }

    @Test func binaryAndUnicodeValues() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "rtest-binary")
        let p = Self.uniquePrefix("binary")
        let values = [
            "nul\u{0}inside\u{0}", "crlf\r\nin the\r\nmiddle", "ünïcödé 👋 日本語", "", "$5\r\n*1\r\n", String(repeating: "x", count: 1_000_000),
        ]
        for (i, value) in values.enumerated() {
            let key = p + "key with spaces \u{0} \(i) ✓"
            try await redis.command("SET", key, value)
            #expect(try await redis.command("GET", key) == .string(value))
            #expect(try await redis.command("STRLEN", key) == .integer(value.utf8.count))
            try await redis.command("DEL", key)
        }
        redis.shutdown()
    }

    @Test func pipelineOfAThousandWithAnErrorInTheMiddle() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 2, name: "rtest-pipeline")
        let p = Self.uniquePrefix("pipeline")
        try await redis.command("SET", p + "text", "not a number")
        var commands: [[String]] = []
        for i in 0..<1_000 {
            if i == 500 {
                commands.append(["INCR", p + "text"])
            } else if i % 2 == 0 {
                commands.append(["SET", p + "k\(i)", "value \(i)"])
            } else {
                commands.append(["INCR", p + "counter"])
            }
        }
        let replies = try await redis.pipeline(commands)
        #expect(replies.count == 1_000)
        var counter = 0
        for (i, reply) in replies.enumerated() {
            if i == 500 {
                guard case .error(let message) = reply else {
                    Issue.record("reply 500 should be an error, got \(reply)")
                    continue
                }
                #expect(message.contains("not an integer"))
            } else if i % 2 == 0 {
                #expect(reply == .status("OK"))
            } else {
                counter += 1
                #expect(reply == .integer(counter))
            }
        }
        let check = try await redis.pipeline([["GET", p + "k998"], ["GET", p + "counter"], ["GET", p + "nothing"]])
        #expect(check == [.string("value 998"), .string("500"), .null])
        #expect(try await redis.pipeline([]) == [])
        let keys = [p + "text", p + "counter"] + (0..<1_000).filter { $0 % 2 == 0 && $0 != 500 }.map { p + "k\($0)" }
        #expect(try await redis.command(["DEL"] + keys).int == keys.count)
        redis.shutdown()
    }

    @Test func scriptsRecoverFromNoScript() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 2, name: "rtest-scripts")
        let p = Self.uniquePrefix("scripts")
        let incrBy = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
        let pair = RedisScript("return {KEYS[1], ARGV[1], 7, false}")
        #expect(try await redis.evaluate(incrBy, keys: [p + "n"], arguments: ["5"]) == .integer(5))
        try await redis.command("SCRIPT", "FLUSH")
        #expect(try await redis.evaluate(incrBy, keys: [p + "n"], arguments: ["5"]) == .integer(10))
        #expect(try await redis.evaluate(pair, keys: [p + "x"], arguments: ["ü"]) == .array([.string(p + "x"), .string("ü"), .integer(7), .null]))

        try await redis.command("SCRIPT", "FLUSH")
        let calls = (0..<100).map { i in
            (script: i % 2 == 0 ? incrBy : pair, keys: [p + "n"], arguments: ["1"])
        }
        let replies = try await redis.evaluatePipelined(calls)
        #expect(replies.count == 100)
        #expect(replies[98] == .integer(60))
        #expect(replies[99] == .array([.string(p + "n"), .string("1"), .integer(7), .null]))
        #expect(try await redis.command("GET", p + "n").int == 60)

        // Script errors: a runtime error throws from evaluate and is a value in a pipeline.
        let failing = RedisScript("return redis.call('INCR', KEYS[1])")
        try await redis.command("SET", p + "text", "abc")
        await #expect(throws: RedisError.self) { try await redis.evaluate(failing, keys: [p + "text"], arguments: []) }
        let mixed = try await redis.evaluatePipelined([
            (script: failing, keys: [p + "text"], arguments: []), (script: incrBy, keys: [p + "n"], arguments: ["1"]),
        ])
        if case .error = mixed[0] {} else { Issue.record("expected an error reply, got \(mixed[0])") }
        #expect(mixed[1] == .integer(61))
        // A script that does not compile fails at load time.
        await #expect(throws: RedisError.self) {
            try await redis.evaluate(RedisScript("this is not lua"), keys: [], arguments: [])
        }
        try await redis.command("DEL", p + "n", p + "text")
        redis.shutdown()
    }

    @Test func fiftyConcurrentTasks() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 2, name: "rtest-concurrent")
        let p = Self.uniquePrefix("concurrent")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<50 {
                group.addTask {
                    for step in 0..<10 {
                        try await redis.command("INCR", p + "counter")
                        let value = "task \(task) step \(step)"
                        try await redis.command("SET", p + "task\(task)", value)
                        #expect(try await redis.command("GET", p + "task\(task)") == .string(value))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await redis.command("GET", p + "counter").int == 500)
        // Both connections were used.
        let clients = try await redis.command("CLIENT", "LIST").string ?? ""
        #expect(clients.components(separatedBy: "\n").filter { $0.contains("name=rtest-concurrent-") }.count == 2)
        try await redis.command(["DEL", p + "counter"] + (0..<50).map { p + "task\($0)" })
        redis.shutdown()
    }

    @Test func recoversAfterItsConnectionsAreKilled() async throws {
        let url = try TestEnvironment.redisURL()
        let name = "rtest-kill-\(UUID().uuidString.prefix(8).lowercased())"
        let redis = RedisClient(url: url, connections: 2, name: name)
        let killer = RedisClient(url: url, connections: 1, name: "rtest-killer")
        // Open both connections.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 { group.addTask { try await redis.command("PING") } }
            try await group.waitForAll()
        }
        // Kill exactly this client's connections (CLIENT KILL TYPE normal would also cut other test
        // suites that share the server), from another connection.
        let list = try await killer.command("CLIENT", "LIST").string ?? ""
        let ids = list.components(separatedBy: "\n").filter { $0.contains(" name=\(name)-") }.compactMap { line in
            line.split(separator: " ").first { $0.hasPrefix("id=") }.map { String($0.dropFirst(3)) }
        }
        #expect(ids.count == 2)
        for id in ids {
            #expect(try await killer.command("CLIENT", "KILL", "ID", id) == .integer(1))
        }
        // The very next commands work: the dead idle connections are noticed and replaced.
        for _ in 0..<4 {
            #expect(try await redis.command("PING") == .status("PONG"))
        }
        let concurrent = try await withThrowingTaskGroup(of: RedisValue.self) { group in
            for _ in 0..<10 { group.addTask { try await redis.command("PING") } }
            var replies: [RedisValue] = []
            for try await reply in group { replies.append(reply) }
            return replies
        }
        #expect(concurrent.allSatisfy { $0 == .status("PONG") })
        killer.shutdown()
        redis.shutdown()
    }

    @Test func unreachableServerIsAConnectionFailure() async throws {
        let redis = RedisClient(url: "redis://127.0.0.1:1/0", connections: 1, name: "rtest-refused")
        do {
            try await redis.command("PING")
            Issue.record("PING to a closed port did not throw")
        } catch let error as RedisError {
            #expect(error.isConnectionFailure)
        }
        redis.shutdown()
        let invalid = RedisClient(url: "http://nope", connections: 1, name: "rtest-invalid")
        await #expect(throws: RedisError.self) { try await invalid.command("PING") }
        invalid.shutdown()
    }

    @Test func databaseFromURL() async throws {
        let url = try TestEnvironment.redisURL()
        guard var components = URLComponents(string: url) else {
            Issue.record("MAILFLEET_TEST_REDIS_URL is not a URL")
            return
        }
        components.path = "/5"
        let db5 = RedisClient(url: components.string!, connections: 1, name: "rtest-db5")
        let p = Self.uniquePrefix("db")
        try await db5.command("SET", p + "k", "in five")
        #expect(try await db5.command("GET", p + "k") == .string("in five"))
        components.path = "/6"
        let db6 = RedisClient(url: components.string!, connections: 1, name: "rtest-db6")
        #expect(try await db6.command("GET", p + "k") == .null)
        try await db5.command("DEL", p + "k")
        db5.shutdown()
        db6.shutdown()
    }
}
