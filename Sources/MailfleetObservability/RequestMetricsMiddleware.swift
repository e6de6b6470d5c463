import Hummingbird
import MailfleetRuntime
import Metrics

/// Counts requests and records their latency per route and status class, and echoes a
/// caller's `X-Request-Id` on the response (it makes none of its own and logs nothing).
public struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    private struct SeriesKey: Hashable {
        var route: String
        var method: String
        var statusClass: Int
    }

    private struct Series {
        var requests: Metrics.Counter
        var duration: Metrics.Timer
    }

    private let service: String
    /// The metrics of each route, method and status class seen, so a request looks them up once.
    private let series = Locked<[SeriesKey: Series]>([:])

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
        let key = SeriesKey(route: route, method: method, statusClass: status / 100)
        let metrics = series.withLock { table in
            if let known = table[key] { return known }
            let labels = [("service", service), ("route", route), ("method", method), ("code", "\(key.statusClass)xx")]
            let made = Series(
                requests: Telemetry.counter("http_requests_total", help: "HTTP requests served", labels: labels),
                duration: Telemetry.durationHistogram(
                    "http_request_duration_seconds", help: "HTTP request latency", labels: [("service", service), ("route", route)]))
            table[key] = made
            return made
        }
        metrics.requests.increment()
        metrics.duration.record(duration: ContinuousClock.now - start)
    }
}
