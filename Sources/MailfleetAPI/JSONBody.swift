import Foundation
import Hummingbird
import MailfleetCore

/// Reads and decodes small JSON request bodies (templates, suppressions, previews) with the
/// same error answers as messages: 400 for malformed JSON or wrong types, 422 for unknown
/// fields and invalid values, 413 when too large.
enum JSONBody {
    /// Largest body these endpoints take: a template of three 256 KB parts, or preview variables, with slack.
    static let maxBytes = 4 * 1024 * 1024

    /// Decodes the request body as `T`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maxBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request bodies here are limited to \(maxBytes) bytes")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: buffer))
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw APIError(.badRequest, code: "invalid_json", message: "the body is not valid JSON")
            }
            let fieldError = FieldError(decoding: error)
            let status: HTTPResponse.Status = ["unknown_field", "invalid_value"].contains(fieldError.code) ? .unprocessableContent : .badRequest
            throw APIError(status, code: fieldError.code, message: fieldError.message, field: fieldError.field)
        }
    }

    /// Throws `unknown_field` for any key of the object at `decoder` outside `known`.
    static func refuseUnknownFields(_ decoder: any Decoder, known: Set<String>) throws {
        let keys = try decoder.container(keyedBy: AnyKey.self).allKeys
        if let unknown = keys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [unknown], debugDescription: "unknown field \(unknown.stringValue)"))
        }
    }
}
