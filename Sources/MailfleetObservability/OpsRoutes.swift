import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// Something `/readyz` checks: a name and an async probe that throws when not reachable.
public struct ReadinessCheck: Sendable {
    /// Shown in the `/readyz` body.
    public var name: String
    /// Throws when the dependency is not usable.
    public var probe: @Sendable () async throws -> Void

    /// Creates a check.
    public init(name: String, probe: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.probe = probe
    }
}

/// The routes every process serves: `/metrics`, `/healthz`, `/readyz`.
public enum OpsRoutes {
    /// Adds the three routes to a router.
    public static func add<Context: RequestContext>(to router: Router<Context>, checks: [ReadinessCheck]) {
        router.get("/healthz") { _, _ in
            try OpsRoutes.json(Health(status: "ok"), status: .ok)
        }
        router.get("/readyz") { _, _ in
            var results: [String: String] = [:]
            var ready = true
            for check in checks {
                do {
                    try await withTimeout(seconds: 2) { try await check.probe() }
                    results[check.name] = "ok"
                } catch {
                    results[check.name] = "\(error)"
                    ready = false
                }
            }
            return try OpsRoutes.json(Readiness(status: ready ? "ready" : "unavailable", checks: results), status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Sampler.shared.sample()
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: Telemetry.registry.emitToBuffer())))
        }
    }

    /// The `/healthz` answer.
    private struct Health: Encodable {
        var status: String
    }

    /// The `/readyz` answer: overall status and each check's result ("ok" or the error).
    private struct Readiness: Encodable {
        var status: String
        var checks: [String: String]
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// A server with only the ops routes, for processes that serve no other HTTP (worker, scheduler).
    public static func server(host: String, port: Int, checks: [ReadinessCheck], logger: Logger) -> some Service {
        let router = Router()
        add(to: router, checks: checks)
        return Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
    }
}

/// Fails with `TimeoutError` if `body` takes longer than `seconds`.
public func withTimeout<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw TimeoutError(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// An operation ran out of time.
public struct TimeoutError: Error, CustomStringConvertible {
    /// The limit that was exceeded.
    public let seconds: Double
    public var description: String { "timed out after \(seconds)s" }
}
