import Foundation

/// The `provider_accounts.config` jsonb column: a flat object of string values.
enum ProviderConfigJSON {
    static func encode(_ config: [String: String]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String: String] {
        guard let text, let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
        return object.compactMapValues { $0 as? String ?? ($0 as? NSNumber)?.stringValue }
    }
}
