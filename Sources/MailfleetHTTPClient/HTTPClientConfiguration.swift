import MailfleetCore

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
    /// Where requests may go; nil (the default) checks nothing, which suits provider APIs the
    /// operator configured. Set for URLs tenants supply (webhooks): each URL is checked before
    /// anything is sent, only the policy's schemes are spoken, redirects are not followed, no
    /// proxy is used, and every address libcurl connects to is checked at connect time, so a
    /// name resolving to a refused address (or rebinding to one) fails with `.refused`.
    public var egress: EgressPolicy?

    /// Creates a configuration; every argument has a production default.
    public init(
        maxConnectionsPerHost: Int = 32, maxTotalConnections: Int = 256,
        connectTimeout: Duration = .seconds(5), userAgent: String = "mailfleet/0.1",
        egress: EgressPolicy? = nil
    ) {
        self.maxConnectionsPerHost = maxConnectionsPerHost
        self.maxTotalConnections = maxTotalConnections
        self.connectTimeout = connectTimeout
        self.userAgent = userAgent
        self.egress = egress
    }
}
