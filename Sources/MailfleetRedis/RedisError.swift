/// An error reply from Redis, or a failure to reach it.
public struct RedisError: Error, CustomStringConvertible, Sendable {
    /// The server's error text (e.g. `WRONGTYPE ...`) or a description of the connection problem.
    public let message: String
    /// True when the connection failed (refused, closed, timed out); the next command reconnects.
    public var isConnectionFailure: Bool

    /// Makes an error.
    public init(message: String, isConnectionFailure: Bool = false) {
        self.message = message
        self.isConnectionFailure = isConnectionFailure
    }

    /// The message, marked when it is a connection failure.
    public var description: String {
        isConnectionFailure ? "RedisError (connection): \(message)" : "RedisError: \(message)"
    }
}
