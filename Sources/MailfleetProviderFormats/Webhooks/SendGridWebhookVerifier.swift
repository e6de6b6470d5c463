import Crypto
import Foundation

/// SendGrid's signed Event Webhook: an ECDSA P-256 signature (base64 DER) over the timestamp
/// header followed by the raw body bytes, checked with the account's verification key.
public struct SendGridWebhookVerifier: Sendable {
    /// The header carrying the signature.
    public static let signatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
    /// The header carrying the signing time (Unix seconds).
    public static let timestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"

    let publicKey: P256.Signing.PublicKey
    /// How old a signature may be.
    public var freshness: WebhookFreshness

    /// Creates a verifier from the verification key SendGrid shows (base64 SubjectPublicKeyInfo).
    public init(publicKeyBase64: String, freshness: WebhookFreshness = WebhookFreshness()) throws(WebhookRejection) {
        guard let der = Data(base64Encoded: publicKeyBase64.trimmingCharacters(in: .whitespacesAndNewlines)),
            let key = try? P256.Signing.PublicKey(derRepresentation: der)
        else { throw WebhookRejection(.malformed, "the account's SendGrid verification key is not a base64 P-256 public key") }
        self.publicKey = key
        self.freshness = freshness
    }

    /// Refuses the request unless `signature` signs `timestamp + body` and `timestamp` is fresh.
    public func verify(signature: String?, timestamp: String?, body: some Collection<UInt8>, now: Date) throws(WebhookRejection) {
        guard let signature, !signature.isEmpty, let timestamp, !timestamp.isEmpty else {
            throw WebhookRejection(.unsigned, "missing \(Self.signatureHeader) or \(Self.timestampHeader)")
        }
        guard let der = Data(base64Encoded: signature), let ecdsa = try? P256.Signing.ECDSASignature(derRepresentation: der) else {
            throw WebhookRejection(.badSignature, "the signature is not base64 DER ECDSA")
        }
        var signed = Data(timestamp.utf8)
        signed.append(contentsOf: body)
        guard publicKey.isValidSignature(ecdsa, for: signed) else {
            throw WebhookRejection(.badSignature, "the signature does not match the timestamp and body")
        }
        // Checked after the signature, so an attacker cannot learn our clock from unsigned probes.
        try freshness.check(unixSeconds: timestamp, now: now)
    }
}
