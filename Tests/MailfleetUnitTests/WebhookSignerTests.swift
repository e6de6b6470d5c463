import Foundation
import MailfleetCore
import Testing

/// The webhook signer against the Standard Webhooks reference libraries' own test vector, and
/// the secret format.
struct WebhookSignerTests {
    /// The vector of the specification repository's Go and Python libraries (`TestWebhookSign`).
    @Test func signsTheSpecificationsVector() throws {
        let secret = try #require(WebhookSecret(text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let signer = WebhookSigner(secrets: [secret])
        let signature = signer.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8))
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test func everySecretInForceSignsSeparatedBySpaces() throws {
        let current = try #require(WebhookSecret(text: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"))
        let previous = WebhookSecret.generate()
        let both = WebhookSigner(secrets: [current, previous]).signature(id: "msg_1", timestamp: 10, body: Array("{}".utf8))
        let parts = both.split(separator: " ").map(String.init)
        #expect(parts.count == 2)
        #expect(parts[0] == WebhookSigner(secrets: [current]).signature(id: "msg_1", timestamp: 10, body: Array("{}".utf8)))
        #expect(parts[1] == WebhookSigner(secrets: [previous]).signature(id: "msg_1", timestamp: 10, body: Array("{}".utf8)))
        #expect(parts[0] != parts[1])
    }

    @Test func theSignatureCoversIDTimestampAndBody() throws {
        let signer = WebhookSigner(secrets: [WebhookSecret.generate()])
        let base = signer.signature(id: "msg_1", timestamp: 10, body: Array("{}".utf8))
        #expect(base != signer.signature(id: "msg_2", timestamp: 10, body: Array("{}".utf8)))
        #expect(base != signer.signature(id: "msg_1", timestamp: 11, body: Array("{}".utf8)))
        #expect(base != signer.signature(id: "msg_1", timestamp: 10, body: Array("{ }".utf8)))
    }

    @Test func generatedSecretsAreWhsecAndThirtyTwoRandomBytes() throws {
        let a = WebhookSecret.generate()
        let b = WebhookSecret.generate()
        #expect(a.text.hasPrefix("whsec_"))
        #expect(a.key.count == 32)
        #expect(a != b)
        #expect(WebhookSecret(text: a.text) == a)
    }

    @Test func secretsThatAreNotBase64AreRefused() {
        #expect(WebhookSecret(text: "whsec_") == nil)
        #expect(WebhookSecret(text: "whsec_not base64!") == nil)
        // The prefix may be left out, as the reference libraries accept.
        #expect(WebhookSecret(text: "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")?.text == "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    }

    @Test func headersAreTheThreeStandardOnes() throws {
        let signer = WebhookSigner(secrets: [WebhookSecret.generate()])
        let headers = signer.headers(id: "msg_7", timestamp: 1_700_000_000, body: [])
        #expect(headers.map(\.name) == ["webhook-id", "webhook-timestamp", "webhook-signature"])
        #expect(headers[0].value == "msg_7")
        #expect(headers[1].value == "1700000000")
        #expect(headers[2].value.hasPrefix("v1,"))
    }
}
