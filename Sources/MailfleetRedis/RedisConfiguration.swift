import Foundation

/// Where and how to connect, parsed from `redis://[[user]:password@]host[:port][/db]`.
struct RedisConfiguration: Sendable {
    var host: String
    var port: Int
    var database: Int
    var username: String?
    var password: String?

    /// Parses a URL; the error says what is wrong with it (never echoing a password).
    static func parse(_ url: String) -> Result<RedisConfiguration, RedisError> {
        guard let components = URLComponents(string: url), components.scheme == "redis" else {
            return .failure(RedisError(message: "invalid Redis URL: expected redis://host[:port][/db]"))
        }
        guard var host = components.host, !host.isEmpty else {
            return .failure(RedisError(message: "invalid Redis URL: no host"))
        }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var database = 0
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let number = Int(path), number >= 0 else {
                return .failure(RedisError(message: "invalid Redis URL: database \"\(path)\" is not a number"))
            }
            database = number
        }
        let user = components.user.flatMap { $0.isEmpty ? nil : $0 }
        return .success(RedisConfiguration(
            host: host, port: components.port ?? 6379, database: database,
            username: components.password == nil ? nil : user,
            password: components.password ?? user))
    }
}
