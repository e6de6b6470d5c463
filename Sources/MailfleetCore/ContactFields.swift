import Foundation

/// The rules a contact's fields follow, shared by the API, the CLI and imports so that a
/// value refused in one is refused in all, for the same reason.
public enum ContactFields {
    /// Attribute names longer than this are refused.
    public static let maxAttributeNameLength = 128

    /// The stored form of an address: validated by `EmailAddress`, lowercased.
    public static func address(_ text: String) throws(FieldError) -> String {
        do {
            return try EmailAddress(email: text).email.lowercased()
        } catch {
            throw FieldError(code: "invalid_address", field: "email", message: "\(quoted(text)) is not a valid address: \(error.reason)")
        }
    }

    /// An IANA time zone name Foundation knows, as given; nil for nil or an empty text.
    public static func timeZone(_ text: String?) throws(FieldError) -> String? {
        guard let text, !text.isEmpty else { return nil }
        // Foundation also takes abbreviations ("EST") and offsets; only IANA names are stored,
        // so every reader of the column can hand it to any time zone library.
        // Kept as given: Foundation may name a zone differently (UTC as GMT) from the IANA name.
        guard text.contains("/") || text == "UTC", TimeZone(identifier: text) != nil, !text.contains("..") else {
            throw FieldError(code: "invalid_time_zone", field: "time_zone", message: "\(quoted(text)) is not an IANA time zone such as Europe/Berlin")
        }
        return text
    }

    /// `attributes` if every name and string in them can be stored: names not empty, at most
    /// `maxAttributeNameLength` characters, and no NUL anywhere (Postgres' jsonb refuses it).
    public static func attributes(_ attributes: [String: JSONValue]) throws(FieldError) -> [String: JSONValue] {
        for (name, value) in attributes {
            guard !name.isEmpty, name.count <= maxAttributeNameLength else {
                throw FieldError(code: "invalid_value", field: "attributes", message: "attribute names are 1 to \(maxAttributeNameLength) characters")
            }
            guard !name.contains("\u{0}"), !containsNUL(value) else {
                throw FieldError(code: "invalid_value", field: "attributes.\(name)", message: "attributes must not contain NUL characters")
            }
        }
        return attributes
    }

    /// A value for a message, quoted and cut short, with control characters shown as `?`.
    public static func quoted(_ text: String) -> String {
        let shown = String(text.unicodeScalars.prefix(100).map { $0.value < 32 ? "?" : Character($0) })
        return "'" + shown + (text.unicodeScalars.count > 100 ? "…" : "") + "'"
    }

    private static func containsNUL(_ value: JSONValue) -> Bool {
        switch value {
        case .string(let text): return text.contains("\u{0}")
        case .array(let values): return values.contains(where: containsNUL)
        case .object(let members): return members.contains { $0.key.contains("\u{0}") || containsNUL($0.value) }
        default: return false
        }
    }
}
