/// Connection-pool limits and defaults shared by every request of one `HTTPClient`.
public struct HTTPClientConfiguration: Sendable {
    /// The most connections open to one host at once; further requests wait for a free one.
    public var maxConnectionsPerHost: Int
    /// The most connections open at once overall, also the size of the keep-alive cache.
    public var maxTotalConnections: Int
    /// The limit for establishing a connection, TLS handshake included.
    public var connectTimeout: Duration
    /// The User-Agent header sent unless a request sets its own.
    public var userAgent: String

    /// Creates a configuration; every argument has a production default.
    public init(
        maxConnectionsPerHost: Int = 32, maxTotalConnections: Int = 256,
        connectTimeout: Duration = .seconds(5), userAgent: String = "mailfleet/0.1"
    ) {
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxTotalConnections = maxTotalConnections
        self.connectTimeout = connectTimeout
        self.userAgent = userAgent
    }
}
