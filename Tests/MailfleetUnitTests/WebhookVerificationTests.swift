import Crypto
import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing
import _CryptoExtras

/// Each provider's verifier against that provider's own signed samples, and the copies that
/// must be refused: tampered body or signature, stale, unsigned, wrong key, disallowed
/// certificate host, wrong topic.
@Suite struct WebhookVerificationTests {
    // MARK: SendGrid

    static let sendGridVectors = ["sendgrid/sendgrid_python_eventwebhook", "sendgrid/sendgrid_go_node_eventwebhook"]

    @Test(arguments: sendGridVectors) func sendGridVectorVerifies(_ name: String) throws {
        let v = try WebhookVectors.object(name + ".json")
        let body = try WebhookVectors.bytes(name + ".body")
        #expect(body == Array((v["payload"] as! String).utf8))
        let timestamp = v["timestamp"] as! String
        let verifier = try SendGridWebhookVerifier(publicKeyBase64: v["public_key_b64_spki"] as! String)
        let signedAt = Date(timeIntervalSince1970: Double(timestamp)!)
        try verifier.verify(signature: v["signature_b64"] as? String, timestamp: timestamp, body: body, now: signedAt.addingTimeInterval(10))
    }

    @Test(arguments: sendGridVectors) func sendGridCopiesAreRefused(_ name: String) throws {
        let v = try WebhookVectors.object(name + ".json")
        let negative = v["negative"] as! [String: String]
        let body = try WebhookVectors.bytes(name + ".body")
        let timestamp = v["timestamp"] as! String, signature = v["signature_b64"] as! String
        let now = Date(timeIntervalSince1970: Double(timestamp)!)
        let verifier = try SendGridWebhookVerifier(publicKeyBase64: v["public_key_b64_spki"] as! String)
        var tampered = body
        tampered[tampered.count / 2] ^= 0x01
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: timestamp, body: tampered, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: timestamp, body: body.dropLast(), now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(signature: negative["wrong_signature_b64"], timestamp: timestamp, body: body, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: String(Int(timestamp)! + 1), body: body, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(signature: "not base64!", timestamp: timestamp, body: body, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(signature: nil, timestamp: timestamp, body: body, now: now) } == .unsigned)
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: nil, body: body, now: now) } == .unsigned)
        let wrongKey = try SendGridWebhookVerifier(publicKeyBase64: negative["wrong_public_key_b64_spki"]!)
        #expect(rejectionReason { try wrongKey.verify(signature: signature, timestamp: timestamp, body: body, now: now) } == .badSignature)
        // The genuine signature, received long after it was made.
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: timestamp, body: body, now: now.addingTimeInterval(301)) } == .stale)
        #expect(rejectionReason { try verifier.verify(signature: signature, timestamp: timestamp, body: body, now: now.addingTimeInterval(-301)) } == .stale)
        let rejection = #expect(throws: WebhookRejection.self) { try verifier.verify(signature: signature, timestamp: timestamp, body: tampered, now: now) }
        #expect(rejection?.status == 401)
    }

    @Test func sendGridFreshSignatureWithTheGoTestKey() throws {
        // sendgrid-go ships the private key of its vector, so fresh and stale copies can be made.
        let v = try WebhookVectors.object("sendgrid/sendgrid_go_node_eventwebhook.json")
        let key = try P256.Signing.PrivateKey(derRepresentation: Data(base64Encoded: v["private_key_b64_sec1"] as! String)!)
        let verifier = try SendGridWebhookVerifier(publicKeyBase64: v["public_key_b64_spki"] as! String, freshness: WebhookFreshness(tolerance: 60))
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let body = Array(#"[{"event":"delivered","sg_event_id":"e1"}]"#.utf8)
        func signed(_ at: Int) throws -> String {
            try key.signature(for: Data("\(at)".utf8) + Data(body)).derRepresentation.base64EncodedString()
        }
        try verifier.verify(signature: try signed(1_800_000_000), timestamp: "1800000000", body: body, now: now)
        #expect(throws: WebhookRejection(.stale, "signed 61 s from now, tolerance 60 s")) {
            try verifier.verify(signature: try signed(1_799_999_939), timestamp: "1799999939", body: body, now: now)
        }
    }

    @Test func sendGridKeyMustBeAP256Key() {
        #expect(throws: WebhookRejection.self) { try SendGridWebhookVerifier(publicKeyBase64: "bm90IGEga2V5") }
    }

    // MARK: Mailgun

    @Test func mailgunVectorVerifiesAndCopiesAreRefused() throws {
        let v = try WebhookVectors.object("mailgun/mailgun_php_webhook.json")
        let verifier = MailgunWebhookVerifier(signingKey: v["signing_key"] as! String)
        let timestamp = v["timestamp"] as! String, token = v["token"] as! String, signature = v["signature"] as! String
        let now = Date(timeIntervalSince1970: Double(timestamp)!)
        try verifier.verify(timestamp: timestamp, token: token, signature: signature, now: now)
        try verifier.verify(timestamp: timestamp, token: token, signature: signature.uppercased(), now: now)
        let otherToken = (v["negative"] as! [String: String])["other_token_same_signature"]!
        #expect(rejectionReason { try verifier.verify(timestamp: timestamp, token: otherToken, signature: signature, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(timestamp: String(Int(timestamp)! + 1), token: token, signature: signature, now: now) } == .badSignature)
        var flipped = Array(signature)
        flipped[0] = flipped[0] == "9" ? "8" : "9"
        #expect(rejectionReason { try verifier.verify(timestamp: timestamp, token: token, signature: String(flipped), now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(timestamp: timestamp, token: token, signature: "zz", now: now) } == .badSignature)
        #expect(rejectionReason { try MailgunWebhookVerifier(signingKey: "key-other").verify(timestamp: timestamp, token: token, signature: signature, now: now) } == .badSignature)
        #expect(rejectionReason { try verifier.verify(timestamp: timestamp, token: nil, signature: signature, now: now) } == .unsigned)
        #expect(rejectionReason { try verifier.verify(timestamp: timestamp, token: token, signature: signature, now: now.addingTimeInterval(301)) } == .stale)
        // The assembled webhook body carries the same signature block.
        let body = try WebhookVectors.object("mailgun/mailgun_webhook_body.json")["signature"] as! [String: String]
        try verifier.verify(timestamp: body["timestamp"], token: body["token"], signature: body["signature"], now: now)
    }

    // MARK: Postmark

    @Test func postmarkBasicCredentials() throws {
        let verifier = PostmarkWebhookVerifier(secret: "s3cret")
        func basic(_ text: String) -> String { "Basic " + Data(text.utf8).base64EncodedString() }
        try verifier.verify(authorization: basic("mailfleet:s3cret"))
        try verifier.verify(authorization: "basic " + Data("mailfleet:s3cret".utf8).base64EncodedString())
        #expect(throws: WebhookRejection(.badSignature, "wrong basic credentials")) { try verifier.verify(authorization: basic("mailfleet:s3creT")) }
        #expect(throws: WebhookRejection(.badSignature, "wrong basic credentials")) { try verifier.verify(authorization: basic("other:s3cret")) }
        #expect(throws: WebhookRejection(.unsigned, "no basic credentials")) { try verifier.verify(authorization: nil) }
        #expect(throws: WebhookRejection.self) { try verifier.verify(authorization: "Bearer s3cret") }
    }

    // MARK: Amazon SNS

    static let snsVectors: [(file: String, certificate: String)] = [
        ("sns/php_validator_http_1_sv1.json", "sns/php_validator_sns_cert.pem"),
        ("sns/php_validator_http_2_sv2.json", "sns/php_validator_sns_cert.pem"),
        ("sns/php_validator_http_3_sv1_subject.json", "sns/php_validator_sns_cert.pem"),
        ("sns/php_validator_http_4_sv2_subject.json", "sns/php_validator_sns_cert.pem"),
        ("sns/awssdk_java_v2_sample_message.json", "sns/awssdk_java_v2_unit_test_public_cert.pem"),
        ("sns_moto/moto_sns_plain_publish.json", "sns_moto/moto_sns_plain_publish.cert.pem"),
    ]

    static func snsEnvelopes() throws -> [(SNSEnvelope, SNSSigningCertificate)] {
        var out = try snsVectors.map { v in
            (try SNSEnvelope.decode(try WebhookVectors.bytes(v.file)), try SNSSigningCertificate(pem: try WebhookVectors.text(v.certificate)))
        }
        // The Lambda-event casing (SigningCertUrl), same certificate.
        let lambda = try JSONSerialization.jsonObject(with: Data(try WebhookVectors.bytes("sns/php_validator_lambda_fixtures.json"))) as! [Any]
        let phpCertificate = try SNSSigningCertificate(pem: try WebhookVectors.text("sns/php_validator_sns_cert.pem"))
        for item in lambda {
            out.append((try SNSEnvelope.decode(Array(try JSONSerialization.data(withJSONObject: item))), phpCertificate))
        }
        return out
    }

    static func verifier(for envelope: SNSEnvelope) -> SNSWebhookVerifier {
        SNSWebhookVerifier(allowedTopics: [envelope.topicArn, "arn:aws:sns:us-east-1:1:other"])
    }

    static func signedAt(_ envelope: SNSEnvelope) -> Date { ISO8601.parse(envelope.timestamp)! }

    @Test func everySNSVectorVerifies() throws {
        let all = try Self.snsEnvelopes()
        #expect(all.count == 12)
        #expect(Set(all.map(\.0.signatureVersion)) == ["1", "2"])
        for (envelope, certificate) in all {
            try Self.verifier(for: envelope).verify(envelope, certificate: certificate, now: Self.signedAt(envelope).addingTimeInterval(5))
        }
    }

    @Test func snsCopiesAreRefused() throws {
        let otherCertificate = try SNSSigningCertificate(pem: try WebhookVectors.text("sns/awssdk_java_v2_sns_public_cert.pem"))
        for (envelope, certificate) in try Self.snsEnvelopes() {
            let verifier = Self.verifier(for: envelope)
            let now = Self.signedAt(envelope)
            var tampered = envelope
            tampered.message += " "
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .badSignature)
            tampered = envelope
            tampered.subject = (envelope.subject ?? "") + "x"
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .badSignature)
            tampered = envelope
            tampered.signatureVersion = envelope.signatureVersion == "1" ? "2" : "1"
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .badSignature)
            var signature = Data(base64Encoded: envelope.signature)!
            signature[7] ^= 0x40
            tampered = envelope
            tampered.signature = signature.base64EncodedString()
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .badSignature)
            #expect(rejectionReason { try verifier.verify(envelope, certificate: otherCertificate, now: now) } == .badSignature)
            #expect(rejectionReason { try verifier.verify(envelope, certificate: certificate, now: now.addingTimeInterval(3601)) } == .stale)
            #expect(rejectionReason { try SNSWebhookVerifier(allowedTopics: ["arn:aws:sns:us-east-1:1:other"]).verify(envelope, certificate: certificate, now: now) } == .disallowedTopic)
            tampered = envelope
            tampered.signingCertURL = "https://sns.us-east-1.amazonaws.com.attacker.example/cert.pem"
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .disallowedCertificate)
            tampered.signatureVersion = "3"
            tampered.signingCertURL = envelope.signingCertURL
            #expect(rejectionReason { try verifier.verify(tampered, certificate: certificate, now: now) } == .malformed)
        }
        let forbidden = #expect(throws: WebhookRejection.self) {
            let (envelope, certificate) = try Self.snsEnvelopes()[0]
            try SNSWebhookVerifier(allowedTopics: []).verify(envelope, certificate: certificate, now: Self.signedAt(envelope))
        }
        #expect(forbidden?.status == 403)
    }

    @Test func snsCertificateHosts() {
        for allowed in [
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-bb750dd426d95ee9390147a5624348ee.pem",
            "https://sns.us-gov-west-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem",
        ] { #expect(SNSWebhookVerifier.isAllowedCertificateURL(allowed), "\(allowed)") }
        for refused in [
            "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com.attacker.example/SimpleNotificationService-1.pem",
            "https://attacker.example/sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com@attacker.example/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
            "https://s3.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.evil.amazonaws.com/SimpleNotificationService-1.pem",
            "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem?x=1",
            "https://sns.us-east-1.amazonaws.com/index.html",
            "https://sns.us-east-1.amazonaws.org/SimpleNotificationService-1.pem",
            "file:///etc/passwd.pem",
            "",
        ] { #expect(!SNSWebhookVerifier.isAllowedCertificateURL(refused), "\(refused)") }
    }

    @Test func motoSESFeedbackWithAnObjectMessageIsMalformed() throws {
        // moto publishes SES feedback with `Message` as an object, which AWS never does (SOURCES.md).
        #expect(throws: WebhookRejection.self) { try SNSEnvelope.decode(try WebhookVectors.bytes("sns_moto/moto_sns_ses_feedback_bounce.json")) }
    }

    @Test func subscriptionConfirmationSignsAWSsFieldOrder() throws {
        // AWS documents the confirmation's signed fields as Message, MessageId, SubscribeURL,
        // Timestamp, Token, TopicArn, Type; the canonical string below is written out from that list.
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let envelope = SNSEnvelope(
            type: "SubscriptionConfirmation", messageID: "165545c9-2a5c-472c-8df2-7ff2be2b3b1b", topicArn: "arn:aws:sns:us-west-2:123456789012:MyTopic",
            message: "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.", timestamp: "2012-04-26T20:45:04.751Z",
            signatureVersion: "2", signature: "", signingCertURL: "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
            token: "2336412f37", subscribeURL: "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37")
        let canonical = """
            Message
            You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.
            MessageId
            165545c9-2a5c-472c-8df2-7ff2be2b3b1b
            SubscribeURL
            https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37
            Timestamp
            2012-04-26T20:45:04.751Z
            Token
            2336412f37
            TopicArn
            arn:aws:sns:us-west-2:123456789012:MyTopic
            Type
            SubscriptionConfirmation

            """
        #expect(envelope.canonicalString == canonical)
        var signed = envelope
        signed.signature = try key.signature(for: SHA256.hash(data: Data(canonical.utf8)), padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        let verifier = SNSWebhookVerifier(allowedTopics: [envelope.topicArn], freshness: nil)
        try verifier.verify(signed, certificate: SNSSigningCertificate(publicKey: key.publicKey), now: Date())
        signed.token = "2336412f38"
        #expect(throws: WebhookRejection.self) { try verifier.verify(signed, certificate: SNSSigningCertificate(publicKey: key.publicKey), now: Date()) }
    }
}

extension WebhookVerificationTests {
    @Test func snsSubscribeURLs() {
        #expect(SNSWebhookVerifier.isAllowedSubscribeURL("https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37"))
        #expect(!SNSWebhookVerifier.isAllowedSubscribeURL("https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"))
        #expect(!SNSWebhookVerifier.isAllowedSubscribeURL("https://attacker.example/?Action=ConfirmSubscription"))
        #expect(!SNSWebhookVerifier.isAllowedSubscribeURL("http://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription"))
    }
}

/// The reason `check` was refused for, or nil when it passed (or failed otherwise).
func rejectionReason(_ check: () throws -> Void) -> WebhookRejection.Reason? {
    do { try check() } catch let rejection as WebhookRejection { return rejection.reason } catch { return nil }
    return nil
}
