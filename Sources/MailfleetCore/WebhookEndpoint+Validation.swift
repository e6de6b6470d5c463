import Foundation

extension WebhookEndpoint {
    /// The longest URL taken.
    public static let maxURLLength = 2048

    /// Refuses a URL that cannot be an endpoint: it must parse, be `https` (or `http` where the
    /// operator allows it) and have a host, with no user or password in it, and `policy` must
    /// permit it (no literal loopback, private or metadata address; the operator's allowlist).
    /// The one place endpoint URLs are checked at registration (API and CLI alike); the address
    /// a name resolves to is checked again at every connection.
    public static func validate(url: String, policy: EgressPolicy, field: String = "url") throws(FieldError) {
        guard url.utf8.count <= maxURLLength, !url.unicodeScalars.contains(where: { $0.value < 33 || $0.value == 127 }) else {
            throw FieldError(code: "invalid_url", field: field, message: "url must be an absolute http(s) URL of at most \(maxURLLength) bytes without spaces")
        }
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(), ["https", "http"].contains(scheme),
              let host = components.host, !host.isEmpty else {
            throw FieldError(code: "invalid_url", field: field, message: "url must be an absolute https:// (or http://) URL with a host")
        }
        guard components.user == nil, components.password == nil else {
            throw FieldError(code: "invalid_url", field: field, message: "url must not carry a user or password")
        }
        do {
            try policy.check(url: url)
        } catch {
            throw FieldError(code: "invalid_url", field: field, message: "url refused: \(error.description)")
        }
    }

    /// Refuses event types that are not webhook types (`EventType.webhookTypes`); answers them
    /// without duplicates, in the order given.
    public static func validate(eventTypes: [String], field: String = "event_types") throws(FieldError) -> [String] {
        let known = Set(EventType.webhookTypes)
        var seen: Set<String> = []
        var out: [String] = []
        for (index, type) in eventTypes.enumerated() {
            guard known.contains(type) else {
                throw FieldError(code: "invalid_value", field: "\(field)[\(index)]", message: "event types are \(EventType.webhookTypes.joined(separator: ", "))")
            }
            if seen.insert(type).inserted { out.append(type) }
        }
        return out
    }
}
