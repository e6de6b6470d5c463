import Foundation
import Hummingbird
import MailfleetCore

/// An error answered as `{"error":{"code","message","field"}}` with its own status, so handlers
/// just throw and the client always gets JSON (never a bare 500 for bad input). Every way a
/// request fails becomes one of these in `APIError+Mapping.swift`.
public struct APIError: HTTPResponseError, Sendable {
    /// The HTTP status.
    public let status: HTTPResponse.Status
    /// A stable machine-readable code.
    public let code: String
    /// What went wrong, for a person.
    public let message: String
    /// The offending field's JSON path, if any.
    public let field: String?
    /// Extra response headers (Retry-After, Allow ...).
    public var headers: HTTPFields = [:]
    /// What caused it, for the log line of a 5xx answer; never sent to the client.
    var cause: String?

    /// Creates an error.
    public init(_ status: HTTPResponse.Status, code: String, message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    /// The JSON response.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONEncoder().encode(Body(error: FieldError(code: code, field: field, message: message)))
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(data: body)))
    }

    /// The JSON shape of an error answer.
    struct Body: Codable, Equatable {
        /// The error: code, message and field (omitted when nil).
        var error: FieldError
    }
}
