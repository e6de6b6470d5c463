import Crypto
import Foundation

/// An API key as a caller holds it: `mf_live_<id>_<secret>`. The id is public and short (it
/// names the key in lists and logs); the secret carries 190 random bits. Only the SHA-256 of
/// the whole key is stored.
public struct APIKey: Sendable, Equatable {
    /// The public id part, 8 lowercase alphanumerics.
    public let id: String
    /// The full key text.
    public let plaintext: String

    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// A new random key.
    public static func generate() -> APIKey {
        var rng = SystemRandomNumberGenerator()
        let id = String((0..<8).map { _ in alphabet[Int(rng.next(upperBound: UInt32(36)))] })
        let secret = String((0..<32).map { _ in alphabet[Int(rng.next(upperBound: UInt32(alphabet.count)))] })
        return APIKey(id: id, plaintext: "mf_live_\(id)_\(secret)")
    }

    /// Parses a presented key; nil when it does not have the key's shape.
    public init?(presented text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "mf", parts[1] == "live", parts[2].count == 8, parts[3].count >= 22,
              text.utf8.count <= 128 else { return nil }
        self.init(id: String(parts[2]), plaintext: text)
    }

    private init(id: String, plaintext: String) {
        self.id = id
        self.plaintext = plaintext
    }

    /// The stored form: lowercase hex SHA-256 of the key text.
    public var hash: String { APIKey.hash(plaintext) }

    /// Lowercase hex SHA-256 of a key text.
    public static func hash(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Data(text.utf8)))
    }
}

/// What an API key may do.
public enum APIScope: String, Sendable, Codable, CaseIterable {
    /// Send messages.
    case send
    /// Read messages, events, templates and suppressions.
    case read
    /// Manage the tenant's settings.
    case admin
}
