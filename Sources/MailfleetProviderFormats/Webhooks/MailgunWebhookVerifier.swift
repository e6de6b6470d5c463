import Crypto
import Foundation
import MailfleetCore

/// Mailgun's webhook signature: hex HMAC-SHA256 of `timestamp + token` under the webhook
/// signing key. It does not cover the event data, so a token must be used once (the tracker
/// remembers tokens in Redis) and the timestamp must be fresh.
public struct MailgunWebhookVerifier: Sendable {
    let key: SymmetricKey
    /// How old a signature may be.
    public var freshness: WebhookFreshness

    /// Creates a verifier with the account's webhook signing key.
    public init(signingKey: String, freshness: WebhookFreshness = WebhookFreshness()) {
        self.key = SymmetricKey(data: Data(signingKey.utf8))
        self.freshness = freshness
    }

    /// Refuses the request unless `signature` is the HMAC of `timestamp + token` and `timestamp` is fresh.
    /// Replay of `token` is the caller's check, since it needs shared memory.
    public func verify(timestamp: String?, token: String?, signature: String?, now: Date) throws(WebhookRejection) {
        guard let timestamp, !timestamp.isEmpty, let token, !token.isEmpty, let signature, !signature.isEmpty else {
            throw WebhookRejection(.unsigned, "missing signature.timestamp, signature.token or signature.signature")
        }
        guard let mac = Hex.decode(signature), mac.count == SHA256.byteCount else {
            throw WebhookRejection(.badSignature, "the signature is not 64 hex digits")
        }
        // isValidAuthenticationCode compares in constant time.
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data((timestamp + token).utf8), using: key) else {
            throw WebhookRejection(.badSignature, "the signature does not match the timestamp and token")
        }
        try freshness.check(unixSeconds: timestamp, now: now)
    }
}
