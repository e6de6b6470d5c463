import Foundation

/// An endpoint's signing secret in the Standard Webhooks form: `whsec_` followed by the base64
/// of random bytes. The HMAC key is the decoded bytes, not the text.
public struct WebhookSecret: Sendable, Equatable {
    /// The prefix every secret is shown with.
    public static let prefix = "whsec_"
    /// How many random bytes a new secret has (the specification asks for 24 to 64).
    public static let generatedBytes = 32

    /// The secret as shown to the tenant: `whsec_<base64>`.
    public let text: String
    /// The HMAC key: the base64-decoded part after the prefix.
    public let key: [UInt8]

    /// Reads `whsec_<base64>` (the prefix may be left out, as the reference libraries allow); nil
    /// when the rest is not base64 or decodes to nothing.
    public init?(text: String) {
        let encoded = text.hasPrefix(Self.prefix) ? String(text.dropFirst(Self.prefix.count)) : text
        guard let data = Data(base64Encoded: encoded), !data.isEmpty else { return nil }
        self.text = Self.prefix + encoded
        self.key = Array(data)
    }

    /// A new random secret.
    public static func generate() -> WebhookSecret {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<generatedBytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return WebhookSecret(text: prefix + Data(bytes).base64EncodedString())!
    }
}
