import Foundation

/// The JSON coding every provider payload shares: sorted keys (stable bodies, comparable in
/// tests), slashes unescaped (URLs in tracking values stay readable).
enum PayloadJSON {
    /// The compact encoding of a value.
    static func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// The value a provider's answer holds, or nil when the body is not that.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(body))
    }
}
