import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct MailgunPayloadTests {
    @Test func singleRecipientMessagesShareOneCallAndOthersGoAlone() {
        let messages = [renderedWithTracking(["a@example.com"]), renderedWithTracking(["b@example.com"]), renderedWithTracking(["a@example.com"]), renderedWithTracking(["c@example.com", "d@example.com"]), renderedWithTracking(["e@example.com"], cc: ["f@example.com"])]
        let calls = MailgunPayload.calls(for: messages)
        #expect(calls.count == 4)
        #expect(calls[0].batched && calls[0].messages.map(\.message.id) == [messages[0].message.id, messages[1].message.id])
        #expect(calls.dropFirst().allSatisfy { !$0.batched && $0.messages.count == 1 })
    }

    @Test func aBatchCarriesEveryRecipientWithItsOwnVariables() throws {
        let a = renderedWithTracking(["a@example.com"], subject: "Hi A", metadata: ["n": "1"])
        let b = renderedWithTracking(["b@example.com"], subject: "Hi B", metadata: ["n": "2"])
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
        let m = renderedWithTracking(["c@example.com", "d@example.com"], subject: "Both", metadata: ["n": "3"])
        let form = MailgunPayload.form(for: [m], batched: false)
        #expect(form.values("to") == ["c@example.com", "d@example.com"])
        #expect(form.values("recipient-variables").isEmpty)
        #expect(form.values("v:mailfleet_message_id") == [m.message.id.uuidString.lowercased()])
        #expect(form.values("html") == ["<a href=\"https://t/c/c@example.com\">x</a>https://t/o/c@example.com"])
    }
}
