import Foundation
import Hummingbird
import MailfleetCore

/// The one place where failures become HTTP answers: decode errors, field errors, store
/// errors, and the fixed answers (401, 403, 404, 405).
extension APIError {
    /// Codes that mean a malformed request (400): not JSON, a value of the wrong type, a required
    /// field missing. Every other refused field (`unknown_field`, `invalid_value` and the rules
    /// of the domain) is well-formed JSON whose content is refused (422), on every path.
    static let malformedCodes: Set<String> = ["invalid_json", "invalid_type", "missing_field"]

    /// Seconds a client should wait before retrying when the database is unreachable.
    static let retryAfterSeconds = 1

    /// A body that did not decode: 400 for invalid JSON, wrong types and missing fields, 422
    /// for unknown fields and invalid values, naming the field.
    init(decoding error: DecodingError) {
        if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
            self = .invalidJSON
            return
        }
        self = .invalid(FieldError(decoding: error))
    }

    /// A refused field: 400 when the request is malformed (`malformedCodes`), else 422.
    static func invalid(_ error: FieldError) -> APIError {
        APIError(malformedCodes.contains(error.code) ? .badRequest : .unprocessableContent, code: error.code, message: error.message, field: error.field)
    }

    /// A body that is not JSON.
    static let invalidJSON = APIError(.badRequest, code: "invalid_json", message: "the body is not valid JSON")

    /// An invalid query parameter: `invalid_value`, 422 like the same code in a body.
    static func invalidParameter(_ name: String, _ message: String) -> APIError {
        invalid(FieldError(code: "invalid_value", field: name, message: message))
    }

    /// The store could not answer: 503 with `Retry-After`.
    static func unavailable(_ message: String = "the database is not reachable; retry shortly", cause: (any Error)? = nil) -> APIError {
        var error = APIError(.serviceUnavailable, code: "unavailable", message: message)
        error.cause = cause.map { "\($0)" }
        error.headers[.retryAfter] = "\(retryAfterSeconds)"
        return error
    }

    static func unauthorized(_ message: String = "a valid API key is required: Authorization: Bearer <key>") -> APIError {
        APIError(.unauthorized, code: "unauthorized", message: message)
    }

    static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message: message) }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", message: "\(what) not found") }

    /// A method the path does not serve: 405 with `Allow`.
    static func methodNotAllowed(_ method: HTTPRequest.Method, allowed: [HTTPRequest.Method]) -> APIError {
        var error = APIError(.methodNotAllowed, code: "method_not_allowed", message: "\(method.rawValue) is not served here")
        error.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        return error
    }

    /// A body over `limit` bytes: 413.
    static func bodyTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, code: "body_too_large", message: "request bodies here are limited to \(limit) bytes")
    }
}

/// Runs a store call, answering 503 (with `Retry-After`) when the store cannot be reached.
/// Every store call of the API goes through here; `message` says what was not done.
func database<T: Sendable>(unavailable message: String = "the database is not reachable; retry shortly", _ body: () async throws -> T) async throws(APIError) -> T {
    do {
        return try await body()
    } catch let error as APIError {
        throw error
    } catch {
        throw APIError.unavailable(message, cause: error)
    }
}

extension Request {
    /// The body, up to `limit` bytes (413 beyond).
    func collectBody(limit: Int) async throws(APIError) -> ByteBuffer {
        var request = self
        do {
            return try await request.collectBody(upTo: limit)
        } catch {
            throw APIError.bodyTooLarge(limit: limit)
        }
    }

    /// The body decoded as `T`, up to `limit` bytes, with the decode errors' answers.
    func decode<T: Decodable>(_ type: T.Type, limit: Int) async throws(APIError) -> T {
        let buffer = try await collectBody(limit: limit)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError.invalidJSON
        }
    }
}
