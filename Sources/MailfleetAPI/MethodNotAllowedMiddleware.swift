import Hummingbird

/// Answers `405` with `Allow` when a request's path is served but not for its method (the
/// router alone answers 404). Added to the router after every route, so it runs only for
/// requests no route matched: Hummingbird applies a router middleware to the routes added
/// after it and to the not-found answer.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Per route pattern (path segments, `nil` for a parameter), the methods it serves.
    let routes: [(segments: [Substring?], methods: [HTTPRequest.Method])]

    /// Creates the middleware for the routes of a router.
    public init(routes: [Router<Context>.RouteDescription]) {
        var table: [String: (segments: [Substring?], methods: [HTTPRequest.Method])] = [:]
        for route in routes {
            let pattern = "\(route.path)"
            let segments: [Substring?] = pattern.split(separator: "/").map { $0.hasPrefix("{") || $0.hasPrefix(":") ? nil : $0 }
            table[pattern, default: (segments, [])].methods.append(route.method)
        }
        self.routes = table.values.sorted { "\($0.segments)" < "\($1.segments)" }
    }

    /// The methods served at `path`, or empty when no route has that path. Like the router,
    /// a constant segment wins over a parameter: `/v1/segments/preview` is served by its own
    /// route only (POST), not by `/v1/segments/{id}` too.
    func allowed(at path: String) -> [HTTPRequest.Method] {
        let parts = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        var best: [Bool]?
        for route in routes where route.segments.count == parts.count {
            guard zip(route.segments, parts).allSatisfy({ $0.0 == nil || $0.0 == $0.1 }) else { continue }
            let constants = route.segments.map { $0 != nil }
            let preference = best.map { Self.preference(constants, over: $0) } ?? 1
            if preference > 0 {
                best = constants
                methods = route.methods
            } else if preference == 0 {
                methods += route.methods
            }
        }
        return methods.sorted { $0.rawValue < $1.rawValue }
    }

    /// 1 when the router prefers pattern `a` (constant segments marked true) to `b`, -1 when
    /// it prefers `b`, 0 when they tie: the first segment where one is constant and the other a
    /// parameter decides.
    static func preference(_ a: [Bool], over b: [Bool]) -> Int {
        for (x, y) in zip(a, b) where x != y { return x ? 1 : -1 }
        return 0
    }

    /// Runs the not-found answer unless the path is served for other methods.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let allowed = allowed(at: request.uri.path)
        guard !allowed.isEmpty, !allowed.contains(request.method) else { return try await next(request, context) }
        throw APIError.methodNotAllowed(request.method, allowed: allowed)
    }
}
