import CHiredis
import Foundation
import MailfleetRuntime

/// One hiredis context and the thread it lives on. All methods except `init` run on `thread`
/// (that is what makes the unchecked Sendable sound). The context is opened lazily and freed
/// after any I/O error, so the next command reconnects.
final class RedisConnection: @unchecked Sendable {
    let thread: DedicatedThread
    private let configuration: Result<RedisConfiguration, RedisError>
    private let clientName: String
    private var context: UnsafeMutablePointer<redisContext>?
    private var sigpipeBlocked = false

    static let connectTimeoutMilliseconds = 2_000
    static let commandTimeoutMilliseconds = 5_000

    init(configuration: Result<RedisConfiguration, RedisError>, name: String) {
        self.configuration = configuration
        // CLIENT SETNAME rejects spaces; the name shows in CLIENT LIST for operators.
        self.clientName = name.replacingOccurrences(of: " ", with: "-")
        self.thread = DedicatedThread(name: name)
        // Foundation on Linux ignores a Thread's name set before start (the OS thread inherits its
        // creator's name), so name it from inside; that is what top -H, perf and gdb show.
    }

    /// Sends commands back to back, then reads every reply: one round trip. Error replies are values.
    func pipeline(_ commands: [[String]]) throws -> [RedisValue] {
        let context = try connectedContext()
        return try exchange(context, commands)
    }

    /// Sends one command; an error reply comes back as `.error`.
    func command(_ arguments: [String]) throws -> RedisValue {
        try pipeline([arguments])[0]
    }

    /// Frees the context (closing the socket).
    func close() {
        if let context {
            redisFree(context)
            self.context = nil
        }
    }

    // MARK: - Private

    private func connectedContext() throws -> UnsafeMutablePointer<redisContext> {
        if let context {
            // An idle RESP2 connection never has anything to read; readable means the server closed
            // it (CLIENT KILL, timeout, restart). Reconnecting now beats failing the command.
            if mf_redis_has_error(context) == 0 && mf_redis_idle_connection_broken(context) == 0 {
                return context
            }
            close()
        }
        let configuration = try self.configuration.get()
        if !sigpipeBlocked {
            mf_redis_block_sigpipe_on_this_thread()
            sigpipeBlocked = true
        }
        guard let fresh = mf_redis_connect(configuration.host, Int32(configuration.port), Self.connectTimeoutMilliseconds)
        else {
            throw RedisError(message: "could not connect to Redis: out of memory", isConnectionFailure: true)
        }
        if mf_redis_has_error(fresh) != 0 {
            let reason = String(cString: mf_redis_errstr(fresh))
            redisFree(fresh)
            throw RedisError(
                message: "could not connect to Redis at \(configuration.host):\(configuration.port): \(reason)",
                isConnectionFailure: true)
        }
        _ = mf_redis_set_timeout(fresh, Self.commandTimeoutMilliseconds)
        context = fresh

        var setup: [[String]] = []
        if let password = configuration.password {
            setup.append(configuration.username.map { ["AUTH", $0, password] } ?? ["AUTH", password])
        }
        if configuration.database != 0 { setup.append(["SELECT", String(configuration.database)]) }
        setup.append(["CLIENT", "SETNAME", clientName])
        for reply in try exchange(fresh, setup) {
            if case .error(let message) = reply {
                close()
                throw RedisError(message: "Redis connection setup failed: \(message)", isConnectionFailure: true)
            }
        }
        return fresh
    }

    /// Appends all commands, then reads as many replies. Any I/O error frees the context and throws.
    private func exchange(_ context: UnsafeMutablePointer<redisContext>, _ commands: [[String]]) throws -> [RedisValue] {
        // Checked before anything is appended, so a rejected pipeline leaves nothing half-written.
        guard !commands.contains(where: \.isEmpty) else { throw RedisError(message: "empty Redis command") }
        for arguments in commands {
            if Self.append(context, arguments) != REDIS_OK {
                let error = connectionError(context)
                close()
                throw error
            }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            guard let reply = mf_redis_get_reply(context) else {
                let error = connectionError(context)
                close()
                throw error
            }
            replies.append(Self.value(of: reply))
            freeReplyObject(reply)
        }
        return replies
    }

    private func connectionError(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        var reason = String(cString: mf_redis_errstr(context))
        if reason == "Resource temporarily unavailable" {
            reason = "timed out after \(Self.commandTimeoutMilliseconds) ms"
        }
        return RedisError(message: "Redis connection error: \(reason.isEmpty ? "unknown" : reason)", isConnectionFailure: true)
    }

    /// Appends one command with explicit lengths, so arguments may hold any bytes (NUL included).
    private static func append(_ context: UnsafeMutablePointer<redisContext>, _ arguments: [String]) -> Int32 {
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(bytes.count)
            bytes.append(contentsOf: argument.utf8)
            lengths.append(bytes.count - offsets[offsets.count - 1])
        }
        bytes.append(0)  // never empty, so the base address is never nil
        return bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base.advanced(by: $0).assumingMemoryBound(to: CChar.self) }
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    mf_redis_append_argv(context, Int32(arguments.count), argvBuffer.baseAddress, lengthBuffer.baseAddress)
                }
            }
        }
    }

    /// Converts a hiredis reply tree into a value (the caller frees the tree).
    private static func value(of reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING, MF_REDIS_REPLY_DOUBLE, MF_REDIS_REPLY_VERB, MF_REDIS_REPLY_BIGNUM:
            return .string(text(r))
        case REDIS_REPLY_STATUS:
            return .status(text(r))
        case REDIS_REPLY_ERROR:
            return .error(text(r))
        case REDIS_REPLY_INTEGER, MF_REDIS_REPLY_BOOL:
            return .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY, MF_REDIS_REPLY_MAP, MF_REDIS_REPLY_SET, MF_REDIS_REPLY_PUSH:
            return .array((0..<r.elements).map { value(of: mf_redis_reply_element(reply, $0)) })
        default:
            return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let str = reply.str, reply.len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: str, count: reply.len), as: UTF8.self)
    }
}
