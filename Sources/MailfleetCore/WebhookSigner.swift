import Crypto
import Foundation

/// Signs a webhook request per the Standard Webhooks specification: `v1,` and the base64
/// HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under each secret in force, the
/// signatures separated by spaces (during a rotation both the new and the old secret sign, so
/// a receiver holding either verifies).
public struct WebhookSigner: Sendable {
    private let keys: [SymmetricKey]

    /// A signer for the secrets in force, the newest first.
    public init(secrets: [WebhookSecret]) {
        keys = secrets.map { SymmetricKey(data: $0.key) }
    }

    /// The `webhook-signature` header value for one request.
    public func signature(id: String, timestamp: Int, body: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return keys.map { key in
            "v1," + Data(HMAC<SHA256>.authenticationCode(for: content, using: key)).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The three Standard Webhooks headers of one request, in the order sent.
    public func headers(id: String, timestamp: Int, body: [UInt8]) -> [(name: String, value: String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }
}
