import Foundation

/// An Amazon SNS HTTP(S) delivery: a notification or a (un)subscription confirmation, with the
/// fields its signature covers. Reads both SNS's casing (`SigningCertURL`) and the Lambda
/// event's (`SigningCertUrl`).
public struct SNSEnvelope: Sendable, Equatable, Decodable {
    /// `Notification`, `SubscriptionConfirmation` or `UnsubscribeConfirmation`.
    public var type: String
    /// SNS's id of this delivery.
    public var messageID: String
    /// The topic it was published to.
    public var topicArn: String
    /// The subject, on notifications published with one.
    public var subject: String?
    /// The payload (for SES feedback, the SES event as JSON text).
    public var message: String
    /// When SNS signed it (RFC 3339).
    public var timestamp: String
    /// `1` (SHA1withRSA) or `2` (SHA256withRSA).
    public var signatureVersion: String
    /// Base64 RSA signature over the canonical string.
    public var signature: String
    /// Where SNS's signing certificate lives.
    public var signingCertURL: String
    /// The confirmation token (confirmations only).
    public var token: String?
    /// The URL that confirms the subscription (confirmations only).
    public var subscribeURL: String?

    /// Creates an envelope.
    public init(
        type: String, messageID: String, topicArn: String, subject: String? = nil, message: String, timestamp: String,
        signatureVersion: String, signature: String, signingCertURL: String, token: String? = nil, subscribeURL: String? = nil
    ) {
        self.type = type
        self.messageID = messageID
        self.topicArn = topicArn
        self.subject = subject
        self.message = message
        self.timestamp = timestamp
        self.signatureVersion = signatureVersion
        self.signature = signature
        self.signingCertURL = signingCertURL
        self.token = token
        self.subscribeURL = subscribeURL
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes SNS's JSON body.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        func first(_ names: String...) throws -> String? {
            for name in names { if let value = try c.decodeIfPresent(String.self, forKey: Key(name)) { return value } }
            return nil
        }
        func required(_ names: String...) throws -> String {
            for name in names { if let value = try c.decodeIfPresent(String.self, forKey: Key(name)) { return value } }
            throw DecodingError.keyNotFound(Key(names[0]), .init(codingPath: c.codingPath, debugDescription: "\(names[0]) is required"))
        }
        type = try required("Type")
        messageID = try required("MessageId")
        topicArn = try required("TopicArn")
        subject = try first("Subject")
        message = try required("Message")
        timestamp = try required("Timestamp")
        signatureVersion = try required("SignatureVersion")
        signature = try required("Signature")
        signingCertURL = try required("SigningCertURL", "SigningCertUrl")
        token = try first("Token")
        subscribeURL = try first("SubscribeURL", "SubscribeUrl")
    }

    /// Reads a request body; anything else than an SNS envelope with a string `Message` is malformed.
    public static func decode(_ body: some Collection<UInt8>) throws(WebhookRejection) -> SNSEnvelope {
        do {
            return try JSONDecoder().decode(SNSEnvelope.self, from: Data(body))
        } catch {
            throw WebhookRejection(.malformed, "not an SNS message: \(error)")
        }
    }

    /// The string SNS signs: each covered field's name and value on their own lines, in the
    /// order AWS documents, which differs between notifications and confirmations.
    public var canonicalString: String {
        var pairs: [(String, String?)]
        if type == "Notification" {
            pairs = [("Message", message), ("MessageId", messageID), ("Subject", subject), ("Timestamp", timestamp), ("TopicArn", topicArn), ("Type", type)]
        } else {
            pairs = [
                ("Message", message), ("MessageId", messageID), ("SubscribeURL", subscribeURL), ("Timestamp", timestamp), ("Token", token),
                ("TopicArn", topicArn), ("Type", type),
            ]
        }
        var out = ""
        for (name, value) in pairs {
            guard let value else { continue }
            out += name + "\n" + value + "\n"
        }
        return out
    }
}
