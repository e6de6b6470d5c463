import Hummingbird
import Logging

/// Gives every request an id: the caller's `X-Request-Id` when it is sane, else a new one. The
/// id is on every log line of the request (the context's logger carries it as `request_id`)
/// and in `X-Request-Id` on every answer, errors included: this middleware comes first, so it
/// turns thrown errors into their answers itself.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = APIRequestContext

    /// The longest caller id taken as it is.
    static let maxLength = 128

    /// Creates the middleware.
    public init() {}

    /// The caller's id if it is 1 to 128 characters of letters, digits and `-_.:/+=` (UUIDs,
    /// trace ids, base64); anything else is replaced, so logs never carry what a caller injects.
    public static func accepted(_ header: String?) -> String? {
        guard let header, !header.isEmpty, header.utf8.count <= maxLength else { return nil }
        let allowed = header.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "="): true
            default: false
            }
        }
        return allowed ? header : nil
    }

    /// Sets the id, runs the request, and answers with the id.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let id = Self.accepted(request.headers[.init("X-Request-Id")!]) { context.requestID = id }
        context.logger[metadataKey: "request_id"] = .string(context.requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as APIError {
            if error.status.code >= 500 {
                context.logger.warning("answered \(error.status.code)", metadata: ["code": "\(error.code)", "error": "\(error.cause ?? error.message)"])
            }
            response = try error.response(from: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            // Handlers throw `APIError`s; anything else is a bug, answered as JSON all the same.
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            response = try APIError(.internalServerError, code: "internal", message: "the request failed; it has been logged")
                .response(from: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.requestID
        return response
    }
}
