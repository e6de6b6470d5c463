import Foundation

extension FieldError {
    /// A field error naming the JSON path that failed to decode.
    public init(decoding error: DecodingError, droppingPrefix prefix: Int = 0) {
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

    /// "a string", "an array" ...: how an error names the JSON type it expected.
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

extension CodingUserInfoKey {
    /// Set to `true` in a decoder's `userInfo` to let `refuseUnknownFields` pass unknown keys:
    /// for JSON the store wrote, which a replica of a newer version may have written with
    /// fields this one does not know.
    public static let ignoresUnknownFields = CodingUserInfoKey(rawValue: "mailfleet.ignoresUnknownFields")!
}

extension Decoder {
    /// Throws `unknown_field` for any key of the object being decoded outside `known`, so
    /// typos do not pass silently (unless `userInfo[.ignoresUnknownFields]` is `true`).
    public func refuseUnknownFields(known: Set<String>) throws {
        if userInfo[.ignoresUnknownFields] as? Bool == true { return }
        let keys = try container(keyedBy: AnyCodingKey.self).allKeys
        if let unknown = keys.first(where: { !known.contains($0.stringValue) }) {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath + [unknown], debugDescription: "unknown field \(unknown.stringValue)"))
        }
    }
}
