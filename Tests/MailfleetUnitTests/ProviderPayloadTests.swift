import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviders
import Testing

private func rendered(_ to: [String], subject: String = "S", metadata: [String: String] = [:], cc: [String] = []) -> RenderedMessage {
    var message = makeMessage(to: to, subject: subject, html: "<a href=\"[[mf:click:0]]\">x</a>[[mf:open]]")
    message.content.metadata = metadata
    message.content.cc = cc.map { try! EmailAddress(email: $0) }
    return RenderedMessage(
        message: message, htmlTemplate: message.content.html, textTemplate: "text",
        substitutions: ["[[mf:open]]": "https://t/o/\(to[0])", "[[mf:click:0]]": "https://t/c/\(to[0])"])
}

@Suite struct MailgunPayloadTests {
    @Test func singleRecipientMessagesShareOneCallAndOthersGoAlone() {
        let messages = [rendered(["a@example.com"]), rendered(["b@example.com"]), rendered(["a@example.com"]), rendered(["c@example.com", "d@example.com"]), rendered(["e@example.com"], cc: ["f@example.com"])]
        let calls = MailgunPayload.calls(for: messages)
        #expect(calls.count == 4)
        #expect(calls[0].batched && calls[0].messages.map(\.message.id) == [messages[0].message.id, messages[1].message.id])
        #expect(calls.dropFirst().allSatisfy { !$0.batched && $0.messages.count == 1 })
    }

    @Test func aBatchCarriesEveryRecipientWithItsOwnVariables() throws {
        let a = rendered(["a@example.com"], subject: "Hi A", metadata: ["n": "1"])
        let b = rendered(["b@example.com"], subject: "Hi B", metadata: ["n": "2"])
        let form = MailgunPayload.form(for: [a, b], batched: true, boundary: "xyz")
        #expect(form.values("to") == ["a@example.com", "b@example.com"])
        #expect(form.values("subject") == ["%recipient.mf_subject%"])
        #expect(form.values("html") == ["<a href=\"%recipient.mf_click_0%\">x</a>%recipient.mf_open%"])
        #expect(form.values("v:mailfleet_message_id") == ["%recipient.mailfleet_message_id%"])
        #expect(form.values("v:n") == ["%recipient.n%"])
        let variables = try #require(JSONSerialization.jsonObject(with: Data(form.values("recipient-variables")[0].utf8)) as? [String: [String: String]])
        #expect(variables["a@example.com"]?["mailfleet_message_id"] == a.message.id.uuidString.lowercased())
        #expect(variables["b@example.com"]?["n"] == "2")
        #expect(variables["b@example.com"]?["mf_subject"] == "Hi B")
        #expect(variables["a@example.com"]?["mf_open"] == "https://t/o/a@example.com")
        let body = String(decoding: form.body, as: UTF8.self)
        #expect(body.hasPrefix("--xyz\r\nContent-Disposition: form-data; name=\"from\"\r\n"))
        #expect(body.hasSuffix("\r\n--xyz--\r\n"))
    }

    @Test func aMessageSentAloneCarriesItsOwnValuesLiterally() {
        let m = rendered(["c@example.com", "d@example.com"], subject: "Both", metadata: ["n": "3"])
        let form = MailgunPayload.form(for: [m], batched: false)
        #expect(form.values("to") == ["c@example.com", "d@example.com"])
        #expect(form.values("recipient-variables").isEmpty)
        #expect(form.values("v:mailfleet_message_id") == [m.message.id.uuidString.lowercased()])
        #expect(form.values("html") == ["<a href=\"https://t/c/c@example.com\">x</a>https://t/o/c@example.com"])
    }
}

@Suite struct PostmarkPayloadTests {
    @Test func eachMessageHasItsOwnBodiesAndMetadata() throws {
        let a = rendered(["a@example.com"], metadata: ["n": "1"])
        let json = try PostmarkPayload.encode([a], messageStream: "broadcast")
        let items = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [[String: Any]])
        #expect(items.count == 1)
        #expect(items[0]["To"] as? String == "a@example.com")
        #expect(items[0]["HtmlBody"] as? String == "<a href=\"https://t/c/a@example.com\">x</a>https://t/o/a@example.com")
        #expect((items[0]["Metadata"] as? [String: String])?["mailfleet_message_id"] == a.message.id.uuidString.lowercased())
        #expect(items[0]["MessageStream"] as? String == "broadcast")
    }

    @Test func resultsAreReadPerMessage() {
        let body = #"[{"ErrorCode":0,"Message":"OK","MessageID":"m1"},{"ErrorCode":406,"Message":"inactive"},{"ErrorCode":300,"Message":"bad"},{"ErrorCode":10,"Message":"token"},{"ErrorCode":100,"Message":"maintenance"}]"#
        let results = PostmarkPayload.results(Array(body.utf8), count: 5)
        #expect(results == [
            .accepted(messageID: "m1"), .rejected(reason: "postmark 406: inactive"), .rejected(reason: "postmark 300: bad"),
            .accountFailure(reason: "postmark 10: token"), .retryable(reason: "postmark 100: maintenance"),
        ])
        #expect(PostmarkPayload.results(Array(body.utf8), count: 4) == nil)
    }
}

@Suite struct SESPayloadTests {
    @Test func sendEmailCarriesRawMIMEAndOurMessageID() throws {
        let a = rendered(["a@example.com"], metadata: ["n": "1"])
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
        let response = HTTPResponse(status: 400, headers: [HTTPHeader("x-amzn-ErrorType", "SendingPausedException:http://internal")])
        #expect(SESPayload.errorType(response) == "SendingPausedException")
    }
}
