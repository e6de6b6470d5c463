import Foundation
import Hummingbird
import MailfleetCore
import MailfleetObservability

/// An error answered as `{"error":{"code","message","field"}}` with its own status, so handlers
/// just throw and the client always gets JSON (never a bare 500 for bad input).
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// A stable machine-readable code.
    public let code: String
    /// What went wrong, for a person.
    public let message: String
    /// The offending field's JSON path, if any.
    public let field: String?
    /// Extra response headers (Retry-After ...).
    public var headers: HTTPFields = [:]

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    /// The JSON response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: APIError.body(code: code, message: message, field: field))))
    }

    /// The JSON error object.
    static func body(code: String, message: String, field: String?) -> String {
        var inner = "\"code\":\(JSONString.quote(code)),\"message\":\(JSONString.quote(message))"
        if let field { inner += ",\"field\":\(JSONString.quote(field))" }
        return "{\"error\":{\(inner)}}"
    }

    static func unauthorized(_ message: String = "a valid API key is required: Authorization: Bearer <key>") -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message)
    }
    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message: message) }
    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", message: "\(what) not found") }
    static func invalid(_ error: FieldError) -> APIError {
        APIError(.unprocessableContent, code: error.code, message: error.message, field: error.field)
    }
    static func unavailable(_ message: String) -> APIError { APIError(.serviceUnavailable, code: "unavailable", message: message) }
}
