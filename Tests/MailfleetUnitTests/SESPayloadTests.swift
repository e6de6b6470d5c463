import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct SESPayloadTests {
    @Test func sendEmailCarriesRawMIMEAndOurMessageID() throws {
        let a = renderedWithTracking(["a@example.com"], metadata: ["n": "1"])
        let mime = MIMEBuilder().build(a)
        let json = try SESPayload.sendEmail(a, mime: mime, configurationSet: "cs")
        let root = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        let raw = try #require(((root["Content"] as? [String: Any])?["Raw"] as? [String: Any])?["Data"] as? String)
        #expect(Data(base64Encoded: raw) == Data(mime.utf8))
        #expect((root["Destination"] as? [String: Any])?["ToAddresses"] as? [String] == ["a@example.com"])
        #expect(root["ConfigurationSetName"] as? String == "cs")
        #expect(mime.contains("X-Mailfleet-Metadata: {\"n\":\"1\"}\r\n"))
    }

    @Test func credentialsComeFromTheSecretAndErrorsAreTyped() {
        var acct = account(.ses)
        acct.secret = "AKID:SECRET"
        acct.config = ["region": "eu-west-1"]
        #expect(SESPayload.signer(for: acct)?.region == "eu-west-1")
        #expect(acct.effectiveEndpoint == "https://email.eu-west-1.amazonaws.com")
        acct.secret = "no-colon"
        #expect(SESPayload.signer(for: acct) == nil)
        #expect(SESPayload.errorType(header: "SendingPausedException:http://internal", body: []) == "SendingPausedException")
        #expect(SESPayload.errorType(header: nil, body: Array(#"{"__type":"NotFoundException","message":"no"}"#.utf8)) == "NotFoundException")
        #expect(SESPayload.errorType(header: nil, body: Array(#"{"code":"BadRequestException"}"#.utf8)) == "BadRequestException")
        #expect(SESPayload.errorType(header: nil, body: Array("<html>".utf8)) == nil)
        let messages = [renderedWithTracking(["a@example.com"]), renderedWithTracking(["b@example.com"])]
        let paused = SESPayload.accountFailure(status: 400, errorType: "SendingPausedException", messages: messages)
        #expect(paused?.accountFailure == "ses SendingPausedException")
        #expect(paused?.outcomes.count == 2)
        #expect(paused?.outcomes.values.allSatisfy { $0 == .retryable(reason: "ses 400 SendingPausedException", retryAfter: nil) } == true)
        #expect(SESPayload.accountFailure(status: 404, errorType: "NotFoundException", messages: messages)?.status == 404)
        #expect(SESPayload.accountFailure(status: 400, errorType: "BadRequestException", messages: messages) == nil)
        #expect(SESPayload.accountFailure(status: 500, errorType: "SendingPausedException", messages: messages) == nil)
    }
}
