import MailfleetRuntime

/// A Redis client over a few blocking hiredis connections, each on its own `DedicatedThread`.
/// Commands go to the connection with the fewest commands in flight.
///
/// Timeouts: 2 s to connect, 5 s per command, so blocking commands (BLPOP...) must use shorter waits.
public final class RedisClient: Sendable {
    private let name: String
    private let connections: [RedisConnection]
    private let load: Locked<LoadState>
    /// SHA1 of each script source, as returned by SCRIPT LOAD.
    private let scriptHashes = Locked<[String: String]>([:])

    private struct LoadState {
        var inFlight: [Int]
        /// Where the search for the least busy connection starts, rotated so ties spread out.
        var next = 0
        var isShutDown = false
    }

    /// Creates the client and its threads; connections are opened lazily by the first command on each.
    public init(url: String, connections: Int = 2, name: String = "redis") {
        precondition(connections > 0, "RedisClient needs at least one connection")
        let configuration = RedisConfiguration.parse(url)
        self.name = name
        self.connections = (0..<connections).map {
            RedisConnection(configuration: configuration, name: "\(name)-\($0)")
        }
        self.load = Locked(LoadState(inFlight: Array(repeating: 0, count: connections)))
    }

    deinit {
        stopThreads()
    }

    /// Runs one command; an error reply throws `RedisError`.
    @discardableResult
    public func command(_ arguments: [String]) async throws -> RedisValue {
        let reply = try await onConnection { try $0.command(arguments) }
        if case .error(let message) = reply { throw RedisError(message: message) }
        return reply
    }

    /// Runs one command given as separate arguments; an error reply throws `RedisError`.
    @discardableResult
    public func command(_ arguments: String...) async throws -> RedisValue {
        try await command(arguments)
    }

    /// Sends all commands, then reads all replies (one round trip). Error replies come back as `.error`.
    public func pipeline(_ commands: [[String]]) async throws -> [RedisValue] {
        if commands.isEmpty { return [] }
        return try await onConnection { try $0.pipeline(commands) }
    }

    /// Runs a script with EVALSHA, loading it first if needed and again after a NOSCRIPT (e.g. SCRIPT FLUSH
    /// or a server restart). An error reply throws `RedisError`.
    @discardableResult
    public func evaluate(_ script: RedisScript, keys: [String], arguments: [String]) async throws -> RedisValue {
        let reply = try await onConnection { connection in
            var hash = try self.cachedHash(script.source) ?? self.loadScript(script.source, on: connection)
            var reply = try connection.command(Self.evalsha(hash, keys, arguments))
            if Self.isNoScript(reply) {
                hash = try self.loadScript(script.source, on: connection)
                reply = try connection.command(Self.evalsha(hash, keys, arguments))
            }
            return reply
        }
        if case .error(let message) = reply { throw RedisError(message: message) }
        return reply
    }

    /// Runs many scripts with EVALSHA in one round trip (after loading any not cached yet).
    /// Like `pipeline`, error replies come back as `.error` values rather than being thrown.
    public func evaluatePipelined(
        _ calls: [(script: RedisScript, keys: [String], arguments: [String])]
    ) async throws -> [RedisValue] {
        if calls.isEmpty { return [] }
        return try await onConnection { connection in
            var hashes: [String: String] = [:]
            var missing: [String] = []
            for call in calls where hashes[call.script.source] == nil && !missing.contains(call.script.source) {
                if let hash = self.cachedHash(call.script.source) {
                    hashes[call.script.source] = hash
                } else {
                    missing.append(call.script.source)
                }
            }
            for (source, hash) in try self.loadScripts(missing, on: connection) { hashes[source] = hash }

            var replies = try connection.pipeline(calls.map {
                Self.evalsha(hashes[$0.script.source]!, $0.keys, $0.arguments)
            })
            // Scripts flushed since we cached them: load them again and retry just those calls.
            let retry = replies.indices.filter { Self.isNoScript(replies[$0]) }
            if !retry.isEmpty {
                var reload: [String] = []
                for i in retry where !reload.contains(calls[i].script.source) { reload.append(calls[i].script.source) }
                for (source, hash) in try self.loadScripts(reload, on: connection) { hashes[source] = hash }
                let again = try connection.pipeline(retry.map {
                    Self.evalsha(hashes[calls[$0].script.source]!, calls[$0].keys, calls[$0].arguments)
                })
                for (i, reply) in zip(retry, again) { replies[i] = reply }
            }
            return replies
        }
    }

    /// Closes the connections once their queued commands are done and stops the threads; returns at once.
    /// Later commands throw.
    public func shutdown() {
        stopThreads()
    }

    // MARK: - Private

    private func stopThreads() {
        load.withLock { $0.isShutDown = true }
        for connection in connections {
            connection.thread.submit { connection.close() }
            connection.thread.shutdown()
        }
    }

    /// Runs `body` on the least busy connection's thread.
    private func onConnection<T: Sendable>(_ body: @escaping @Sendable (RedisConnection) throws -> T) async throws -> T {
        let index = try load.withLock { state -> Int in
            if state.isShutDown { throw RedisError(message: "Redis client \(name) has been shut down") }
            var best = state.next
            for step in 1..<max(state.inFlight.count, 1) {
                let candidate = (state.next + step) % state.inFlight.count
                if state.inFlight[candidate] < state.inFlight[best] { best = candidate }
            }
            state.inFlight[best] += 1
            state.next = (best + 1) % state.inFlight.count
            return best
        }
        defer { load.withLock { $0.inFlight[index] -= 1 } }
        let connection = connections[index]
        do {
            return try await connection.thread.run { try body(connection) }
        } catch is DedicatedThreadError {
            throw RedisError(message: "Redis client \(name) has been shut down")
        }
    }

    private func cachedHash(_ source: String) -> String? {
        scriptHashes.withLock { $0[source] }
    }

    /// SCRIPT LOAD one script and cache its hash.
    private func loadScript(_ source: String, on connection: RedisConnection) throws -> String {
        try loadScripts([source], on: connection)[0].hash
    }

    /// SCRIPT LOAD several scripts in one round trip and cache their hashes.
    private func loadScripts(_ sources: [String], on connection: RedisConnection) throws -> [(source: String, hash: String)] {
        if sources.isEmpty { return [] }
        let replies = try connection.pipeline(sources.map { ["SCRIPT", "LOAD", $0] })
        var loaded: [(source: String, hash: String)] = []
        for (source, reply) in zip(sources, replies) {
            guard let hash = reply.string else {
                if case .error(let message) = reply { throw RedisError(message: "SCRIPT LOAD failed: \(message)") }
                throw RedisError(message: "SCRIPT LOAD returned an unexpected reply: \(reply)")
            }
            loaded.append((source, hash))
        }
        scriptHashes.withLock { hashes in
            for (source, hash) in loaded { hashes[source] = hash }
        }
        return loaded
    }

    private static func evalsha(_ hash: String, _ keys: [String], _ arguments: [String]) -> [String] {
        ["EVALSHA", hash, String(keys.count)] + keys + arguments
    }

    private static func isNoScript(_ reply: RedisValue) -> Bool {
        if case .error(let message) = reply { return message.hasPrefix("NOSCRIPT") }
        return false
    }
}
