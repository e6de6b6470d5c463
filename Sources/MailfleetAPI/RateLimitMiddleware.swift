import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetStore

/// Per-tenant request rate limit on `/v1/` routes: `429 rate_limited` with `Retry-After` when
/// over, and the IETF draft `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` headers
/// on every answer it lets through. It runs after `AuthenticationMiddleware`, on the key that
/// authenticated the request. If Redis cannot be reached the request is let through: refusing mail because
/// the limiter is down would turn a Redis outage into an API outage.
public struct RateLimitMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let limiter: RateLimiter
    let defaultPerMinute: Int

    /// Creates the middleware; tenants without their own limit get `defaultPerMinute`.
    public init(limiter: RateLimiter, defaultPerMinute: Int) {
        self.limiter = limiter
        self.defaultPerMinute = defaultPerMinute
    }

    /// Checks the limit, then runs the route.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let key = context.key else { return try await next(request, context) }
        let decision: RateLimitDecision
        do {
            decision = try await limiter.check("api:\(key.tenantID.lowercasedString)", limit: RateLimit(limit: key.apiRateLimit ?? defaultPerMinute))
        } catch {
            context.logger.warning("rate limiter unavailable; letting the request through", metadata: ["error": "\(error)"])
            return try await next(request, context)
        }
        var headers = HTTPFields()
        for (name, value) in decision.headers { headers[.init(name)!] = value }
        guard decision.allowed else {
            var error = APIError(
                .tooManyRequests, code: "rate_limited",
                message: "this tenant is limited to \(decision.limit) requests per minute; retry after \(headers[.init("Retry-After")!] ?? "1") s")
            error.headers = headers
            throw error
        }
        do {
            var response = try await next(request, context)
            for field in headers { response.headers[field.name] = field.value }
            return response
        } catch var error as APIError {
            for field in headers { error.headers[field.name] = field.value }
            throw error
        }
    }
}
