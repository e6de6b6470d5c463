/// An error from libpq or the server: a failed query, a refused connection, a broken link, a bad value.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// The human-readable message (the server's primary message when there is one).
    public let message: String
    /// The five-character SQLSTATE the server sent, or nil for errors raised on the client side.
    public let sqlState: String?
    /// Set when libpq reported that the link itself broke, even without a SQLSTATE.
    let connectionLost: Bool

    /// Makes an error; `connectionLost` marks client-side failures of the link itself.
    public init(message: String, sqlState: String? = nil, connectionLost: Bool = false) {
        self.message = message
        self.sqlState = sqlState
        self.connectionLost = connectionLost
    }

    /// True for a unique constraint violation (SQLSTATE 23505), e.g. a duplicate idempotency key.
    public var isUniqueViolation: Bool { sqlState == "23505" }

    /// True when the connection cannot be used any more and must be re-established.
    public var isConnectionFailure: Bool {
        if connectionLost { return true }
        guard let state = sqlState else { return false }
        // Class 08 is "connection exception"; 57P01..57P03 are server shutdown / termination.
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }

    /// The message, followed by the SQLSTATE when there is one.
    public var description: String {
        if let sqlState { return "PostgresError(\(sqlState)): \(message)" }
        return "PostgresError: \(message)"
    }
}
