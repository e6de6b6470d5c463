import Hummingbird
import MailfleetStore

/// Authenticates every `/v1` request (`Authorization: Bearer <key>`) and puts the key in the
/// context; 401 without a valid key. Each route checks the scope it needs
/// (`APIRequestContext.key(for:)`).
public struct AuthenticationMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext
    let authenticator: Authenticator

    /// Creates the middleware.
    public init(authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    /// Authenticates, then runs the route.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let key = try await authenticator.identify(request)
        context.key = key
        context.logger[metadataKey: "tenant_id"] = .string(key.tenantID.lowercasedString)
        return try await next(request, context)
    }
}
