import Logging
@testable import MailfleetBootstrap
import MailfleetRedis
import MailfleetRuntime
import ServiceLifecycle
import Testing

/// The clients a process opens are shut down however its service group ends.
@Suite struct BootstrapTests {
    struct ServiceFailure: Error {}

    /// A service that fails as soon as it runs, as one that cannot bind its port does.
    struct FailingService: Service {
        func run() async throws { throw ServiceFailure() }
    }

    /// A service that runs until cancelled.
    struct IdleService: Service {
        func run() async throws { try await Task.sleep(for: .seconds(3600)) }
    }

    let logger = Logger(label: "bootstrap-test")

    @Test func aFailingServiceStillShutsTheClientsDown() async throws {
        let url = try TestEnvironment.redisURL()
        let opened = Locked<RedisClient?>(nil)
        await #expect(throws: ServiceFailure.self) {
            try await Bootstrap.runGroup(logger: logger) { clients, _ in
                let redis = clients.redis(url: url, connections: 1, name: "it-bootstrap-fail")
                _ = try await redis.command("PING")
                opened.withLock { $0 = redis }
                return [IdleService(), FailingService()]
            }
        }
        let redis = try #require(opened.withLock { $0 })
        await #expect(throws: RedisError.self) { _ = try await redis.command("PING") }
    }

    @Test func aFailedAssemblyStillShutsTheClientsDown() async throws {
        let url = try TestEnvironment.redisURL()
        let opened = Locked<RedisClient?>(nil)
        await #expect(throws: ServiceFailure.self) {
            try await Bootstrap.runGroup(logger: logger) { clients, _ in
                opened.withLock { $0 = clients.redis(url: url, connections: 1, name: "it-bootstrap-assemble") }
                throw ServiceFailure()
            }
        }
        let redis = try #require(opened.withLock { $0 })
        await #expect(throws: RedisError.self) { _ = try await redis.command("PING") }
    }

    @Test func openedClientsAreCheckedByReadyz() async throws {
        let url = try TestEnvironment.redisURL()
        var clients = ProcessClients()
        _ = clients.redis(url: url, connections: 1, name: "it-bootstrap-ready")
        _ = clients.http(name: "it-bootstrap-http")
        #expect(clients.readinessChecks.map(\.name) == ["redis"])
        try await clients.readinessChecks[0].probe()
        await clients.shutdown()
        await #expect(throws: RedisError.self) { try await clients.readinessChecks[0].probe() }
    }
}
