import Foundation
import MailfleetCore

/// A `POST /v1/messages` body: one message, or `{"messages": [...]}`. Each item decodes on its
/// own, so one bad item in a batch fails only itself.
enum SubmissionBody: Decodable {
    case single(SubmissionItem)
    case batch([SubmissionItem])

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if container.contains(AnyKey("messages")) {
            if let extra = container.allKeys.first(where: { $0.stringValue != "messages" }) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: [extra], debugDescription: "unknown field: a batch body holds only \"messages\""))
            }
            var items: [SubmissionItem] = []
            var array = try container.nestedUnkeyedContainer(forKey: AnyKey("messages"))
            while !array.isAtEnd {
                items.append(try array.decode(SubmissionItem.self))
            }
            self = .batch(items)
        } else {
            self = .single(SubmissionItem(from: decoder))
        }
    }
}

extension SubmissionBody {
    /// The common case, parsed without `Decodable`: a valid single message or a batch of
    /// valid ones (`MessageSubmission.init(plainJSON:)`). Nil means "decode the usual way",
    /// which also gives each item's precise error; a request is never judged by this path alone.
    static func plain(_ body: Data) -> SubmissionBody? {
        guard case .object(let root)? = try? JSONReader.parse(body) else { return nil }
        if let messages = root["messages"] {
            guard root.count == 1, case .array(let items) = messages else { return nil }
            var submissions: [SubmissionItem] = []
            submissions.reserveCapacity(items.count)
            for item in items {
                guard let submission = MessageSubmission(plainJSON: item) else { return nil }
                submissions.append(SubmissionItem(result: .success(submission)))
            }
            return .batch(submissions)
        }
        guard let submission = MessageSubmission(plainJSON: .object(root)) else { return nil }
        return .single(SubmissionItem(result: .success(submission)))
    }
}

/// One decoded item, or why it could not be decoded.
struct SubmissionItem: Decodable {
    let result: Result<MessageSubmission, FieldError>

    init(result: Result<MessageSubmission, FieldError>) {
        self.result = result
    }

    init(from decoder: any Decoder) {
        let base = decoder.codingPath.count
        do {
            let keys = try decoder.container(keyedBy: AnyKey.self).allKeys
            if let unknown = keys.first(where: { !MessageSubmission.knownFields.contains($0.stringValue) }) {
                result = .failure(FieldError(code: "unknown_field", field: unknown.stringValue, message: "unknown field \(unknown.stringValue)"))
                return
            }
            result = .success(try MessageSubmission(from: decoder))
        } catch let error as DecodingError {
            result = .failure(FieldError(decoding: error, droppingPrefix: base))
        } catch {
            result = .failure(FieldError(code: "invalid", field: nil, message: "\(error)"))
        }
    }
}

/// A coding key for any string or index.
struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) {
        stringValue = "\(intValue)"
        self.intValue = intValue
    }
}

extension FieldError {
    /// A field error naming the JSON path that failed to decode.
    init(decoding error: DecodingError, droppingPrefix prefix: Int = 0) {
        func path(_ keys: [any CodingKey]) -> String? {
            var out = ""
            for key in keys.dropFirst(prefix) {
                if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
            }
            return out.isEmpty ? nil : out
        }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(code: "missing_field", field: path(context.codingPath + [key]), message: "\(key.stringValue) is required")
        case .typeMismatch(let type, let context):
            self.init(code: "invalid_type", field: path(context.codingPath), message: "expected \(FieldError.jsonTypeName(type))")
        case .valueNotFound(let type, let context):
            self.init(code: "invalid_type", field: path(context.codingPath), message: "expected \(FieldError.jsonTypeName(type)), got null")
        case .dataCorrupted(let context):
            let code = context.debugDescription.hasPrefix("unknown field") ? "unknown_field" : "invalid_value"
            self.init(code: code, field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(code: "invalid", field: nil, message: "\(error)")
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "a boolean"
        case is Int.Type, is Double.Type: return "a number"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}
