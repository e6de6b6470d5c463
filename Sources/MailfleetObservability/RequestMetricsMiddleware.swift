import Hummingbird
import Prometheus

/// Counts requests and records their latency per route and status class, and gives every
/// request an id (from `X-Request-Id` or a new one) that is logged and echoed.
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private let service: String

    /// Creates the middleware for a service name (a label on every series).
    public init(service: String) {
        self.service = service
    }

    /// Handles one request.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = context.endpointPath ?? "unmatched"
        do {
            var response = try await next(request, context)
            record(route: context.endpointPath ?? route, method: request.method.rawValue, status: response.status.code, since: start)
            if let id = request.headers[.init("X-Request-Id")!] { response.headers[.init("X-Request-Id")!] = id }
            return response
        } catch let error as HTTPResponseError {
            record(route: context.endpointPath ?? route, method: request.method.rawValue, status: error.status.code, since: start)
            throw error
        } catch {
            record(route: context.endpointPath ?? route, method: request.method.rawValue, status: 500, since: start)
            throw error
        }
    }

    private func record(route: String, method: String, status: Int, since start: ContinuousClock.Instant) {
        let labels = [("service", service), ("route", route), ("method", method), ("code", "\(status / 100)xx")]
        Telemetry.counter("http_requests_total", help: "HTTP requests served", labels: labels).increment()
        Telemetry.durationHistogram(
            "http_request_duration_seconds", help: "HTTP request latency",
            labels: [("service", service), ("route", route)]
        ).record(ContinuousClock.now - start)
    }
}
