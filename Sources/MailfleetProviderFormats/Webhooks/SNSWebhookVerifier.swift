import Foundation
import MailfleetCore

/// Amazon SNS deliveries (how SES reports bounces, complaints and deliveries): the topic must be
/// on the account's allowlist, the signing certificate must come over https from an SNS host
/// of AWS, and the RSA signature (version 1: SHA-1, version 2: SHA-256) must cover the
/// canonical string. Fetching the certificate is the caller's: `admit` first, then fetch, then `verify`.
public struct SNSWebhookVerifier: Sendable {
    /// The topic ARNs this account accepts.
    public var allowedTopics: Set<String>
    /// How old a delivery may be, or nil to skip the check (SNS retries for a while).
    public var freshness: WebhookFreshness?

    /// Creates a verifier.
    public init(allowedTopics: Set<String>, freshness: WebhookFreshness? = WebhookFreshness(tolerance: 3600)) {
        self.allowedTopics = allowedTopics
        self.freshness = freshness
    }

    /// The checks that need no certificate: the topic, the certificate's URL and the signature version.
    public func admit(_ envelope: SNSEnvelope) throws(WebhookRejection) {
        guard allowedTopics.contains(envelope.topicArn) else {
            throw WebhookRejection(.disallowedTopic, "topic \(envelope.topicArn) is not allowed for this account")
        }
        guard Self.isAllowedCertificateURL(envelope.signingCertURL) else {
            throw WebhookRejection(.disallowedCertificate, "signing certificate URL \(envelope.signingCertURL) is not an https SNS host of AWS")
        }
        guard envelope.signatureVersion == "1" || envelope.signatureVersion == "2" else {
            throw WebhookRejection(.malformed, "SignatureVersion \(envelope.signatureVersion) is not 1 or 2")
        }
        guard ["Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation"].contains(envelope.type) else {
            throw WebhookRejection(.malformed, "unknown SNS Type \(envelope.type)")
        }
    }

    /// Refuses the envelope unless it passes `admit`, `certificate` signs it, and it is fresh.
    public func verify(_ envelope: SNSEnvelope, certificate: SNSSigningCertificate, now: Date) throws(WebhookRejection) {
        try admit(envelope)
        guard let signature = Data(base64Encoded: envelope.signature) else {
            throw WebhookRejection(.badSignature, "the signature is not base64")
        }
        guard certificate.isValidSignature(Array(signature), over: envelope.canonicalString, version: envelope.signatureVersion) else {
            throw WebhookRejection(.badSignature, "the signature does not match the message")
        }
        if let freshness {
            guard let signedAt = ISO8601.parse(envelope.timestamp) else { throw WebhookRejection(.malformed, "Timestamp \(envelope.timestamp) is not RFC 3339") }
            try freshness.check(signedAt, now: now)
        }
    }

    /// True for `https://sns.<region>.amazonaws.com[.cn]/<name>.pem` with no user, port or query:
    /// a certificate from anywhere else could be the sender's own.
    public static func isAllowedCertificateURL(_ text: String) -> Bool {
        guard let url = snsURL(text) else { return false }
        return url.query == nil && url.path.hasSuffix(".pem")
    }

    /// True for SNS's own `https://sns.<region>.amazonaws.com[.cn]/?Action=ConfirmSubscription&...`:
    /// the tracker fetches it to confirm, so it must never point anywhere else.
    public static func isAllowedSubscribeURL(_ text: String) -> Bool {
        guard let url = snsURL(text), url.path == "/" || url.path.isEmpty else { return false }
        return url.queryItems?.contains { $0.name == "Action" && $0.value == "ConfirmSubscription" } ?? false
    }

    /// The URL when it is https on an SNS host of AWS with no user, password, port or fragment.
    static func snsURL(_ text: String) -> URLComponents? {
        guard let url = URLComponents(string: text), url.scheme == "https", let host = url.host?.lowercased(),
            url.user == nil, url.password == nil, url.port == nil, url.fragment == nil
        else { return nil }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard labels.count >= 4, labels[2...] == ["amazonaws", "com"] || labels[2...] == ["amazonaws", "com", "cn"] else { return nil }
        return labels[0] == "sns" && isRegion(labels[1]) ? url : nil
    }

    /// `us-east-1`, `us-gov-west-1`, `cn-north-1`: letters, dashes, a final number.
    static func isRegion(_ label: String) -> Bool {
        let parts = label.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let last = parts.last, !last.isEmpty, last.allSatisfy(\.isASCIIDigitCharacter) else { return false }
        return parts.dropLast().allSatisfy { !$0.isEmpty && $0.allSatisfy { $0.isASCII && $0.isLowercase } }
    }
}

extension Character {
    fileprivate var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}
