import Foundation
import MailfleetCore

/// The `provider_accounts.config` jsonb column: a flat object of string values.
enum ProviderConfigJSON {
    static func encode(_ config: [String: String]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(config)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Reads the column; a number or a boolean (written by hand in SQL) reads as its text ("1"
    /// or "0" for booleans), anything else that is not a string is left out.
    static func decode(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONDecoder().decode([String: JSONValue].self, from: Data(text.utf8)) else { return [:] }
        return object.compactMapValues { value in
            switch value {
            case .string(let string): string
            case .number(let number): number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
            case .bool(let flag): flag ? "1" : "0"
            default: nil
            }
        }
    }
}
