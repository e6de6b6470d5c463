import MailfleetHTTPClient
import MailfleetObservability
import MailfleetPostgres
import MailfleetRedis
import MailfleetRuntime
import ServiceLifecycle

/// The clients one process opens. Each becomes a `Service` of the process's group that shuts its
/// client down when the group stops, and each Postgres pool and Redis client a `/readyz` check.
public struct ProcessClients: Sendable {
    private(set) var services: [any Service] = []
    private var shutdowns: [ShutdownOnce] = []
    /// `/readyz` checks for every Postgres pool and Redis client opened so far.
    public private(set) var readinessChecks: [ReadinessCheck] = []

    init() {}

    /// A Postgres pool of `size` connections.
    public mutating func postgres(url: String, size: Int, name: String) -> PostgresPool {
        let pool = PostgresPool(url: url, size: size, name: name)
        own(name) { await pool.shutdown() }
        readinessChecks.append(.postgres(pool))
        return pool
    }

    /// A Redis client with `connections` connections.
    public mutating func redis(url: String, connections: Int, name: String) -> RedisClient {
        let redis = RedisClient(url: url, connections: connections, name: name)
        own(name) { redis.shutdown() }
        readinessChecks.append(.redis(redis))
        return redis
    }

    /// An HTTP client (libcurl on a thread of its own).
    public mutating func http(name: String, configuration: HTTPClientConfiguration = .init()) -> HTTPClient {
        let http = HTTPClient(configuration: configuration, name: name)
        own(name) { http.shutdown() }
        return http
    }

    /// A thread of our own for blocking work.
    public mutating func thread(name: String) -> DedicatedThread {
        let thread = DedicatedThread(name: name)
        own(name) { thread.shutdown() }
        return thread
    }

    /// Shuts every client down; those already shut down by their service are not touched again.
    func shutdown() async {
        for once in shutdowns.reversed() { await once.run() }
    }

    private mutating func own(_ name: String, shutdown: @escaping @Sendable () async -> Void) {
        let once = ShutdownOnce(shutdown)
        shutdowns.append(once)
        services.append(ClientService(name: name, shutdown: once))
    }
}
