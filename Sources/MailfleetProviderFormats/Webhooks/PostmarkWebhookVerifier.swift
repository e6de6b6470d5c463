import Foundation
import MailfleetCore

/// Postmark signs nothing, so each account's webhook URL carries HTTP basic credentials
/// (`mailfleet:<webhook secret>`), compared in constant time.
public struct PostmarkWebhookVerifier: Sendable {
    /// The user name in every Postmark webhook URL; the secret is the password.
    public static let username = "mailfleet"

    let expected: String

    /// Creates a verifier for the account's webhook secret.
    public init(secret: String) {
        self.expected = "\(Self.username):\(secret)"
    }

    /// Refuses the request unless its `Authorization` header holds the account's credentials.
    public func verify(authorization: String?) throws(WebhookRejection) {
        guard let authorization, !authorization.isEmpty else { throw WebhookRejection(.unsigned, "no basic credentials") }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
            let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
            let credentials = String(data: decoded, encoding: .utf8)
        else { throw WebhookRejection(.unsigned, "the Authorization header is not basic credentials") }
        guard ConstantTime.equal(credentials, expected) else { throw WebhookRejection(.badSignature, "wrong basic credentials") }
    }
}
