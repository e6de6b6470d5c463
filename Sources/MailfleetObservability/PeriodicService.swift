import ServiceLifecycle

/// Runs an async body every `interval` until graceful shutdown, then once more.
public struct PeriodicService: Service {
    private let interval: Duration
    private let body: @Sendable () async -> Void

    /// Creates the service.
    public init(every interval: Duration, _ body: @escaping @Sendable () async -> Void) {
        self.interval = interval
        self.body = body
    }

    /// Runs until graceful shutdown.
    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Wake at once on graceful shutdown rather than sleeping out the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
            await body()
        }
        await body()
    }
}
