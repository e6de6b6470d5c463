import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetStore

/// The context of one API request: its id (see `RequestIDMiddleware`) and, on `/v1` routes,
/// the key that `AuthenticationMiddleware` authenticated.
public struct APIRequestContext: RequestContext {
    /// Hummingbird's own part: logger, parameters, endpoint path.
    public var coreContext: CoreRequestContextStorage
    /// The request id, answered in `X-Request-Id` and set on every log line of the request.
    public var requestID: String
    /// The authenticated key; nil until `AuthenticationMiddleware` ran, and outside `/v1`.
    public var key: AuthenticatedKey?

    /// Codable answers keep `/` as written: Hummingbird's default encoder writes it as `\/`
    /// (valid JSON, but HTML in a template would come back unlike what was stored).
    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        return encoder
    }

    /// A context for a new request, with Hummingbird's request id until the caller's is read.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestID = source.logger[metadataKey: "hb.request.id"]?.description ?? RequestID().description
    }

    /// The authenticated key if it holds `scope` (or `admin`): 401 without a key, 403 without the scope.
    public func key(for scope: APIScope) throws(APIError) -> AuthenticatedKey {
        guard let key else { throw APIError.unauthorized() }
        guard key.scopes.contains(scope) || key.scopes.contains(.admin) else {
            throw APIError.forbidden("this key lacks the \(scope.rawValue) scope")
        }
        return key
    }
}
