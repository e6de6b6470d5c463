import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// SES `SendBulkEmail`: what one call carries, when a message goes raw instead, and how each
/// entry's result reads.
@Suite struct SESBulkPayloadTests {
    /// A message of a shared campaign body with tracking placeholders and its own values.
    private func campaign(_ to: String, subject: String, metadata: [String: String] = [:], cc: [String] = []) -> RenderedMessage {
        var message = makeMessage(to: [to], subject: subject, html: "<a href=\"[[mf:click:0]]\">x</a> <a href=\"[[mf:click:1]]\">y</a>[[mf:open]]")
        message.content.from = try! EmailAddress(email: "news@example.com", name: "Ünïcode News")
        message.content.replyTo = try! EmailAddress(email: "help@example.com")
        message.content.headers = ["X-Campaign": "spring", "List-Id": "<news.example.com>"]
        message.content.metadata = metadata
        message.content.cc = cc.map { try! EmailAddress(email: $0) }
        message.content.attachments = [MessageAttachment(filename: "a.bin", contentType: "application/octet-stream", data: Data([0, 1, 2, 255]))]
        return RenderedMessage(
            message: message, htmlTemplate: message.content.html, textTemplate: "Hi, see [[mf:click:0]]",
            substitutions: ["[[mf:open]]": "https://t/o/\(to)", "[[mf:click:0]]": "https://t/c/0/\(to)", "[[mf:click:1]]": "https://t/c/1/\(to)"])
    }

    /// SES's simple substitution: every `{{name}}` replaced by its value, nothing escaped.
    private func render(_ template: String, _ data: [String: String]) -> String {
        var out = template
        for (name, value) in data { out = out.replacingOccurrences(of: "{{\(name)}}", with: value) }
        return out
    }

    @Test func oneCallCarriesTheSharedTemplateAndEachMessageAsAnEntry() throws {
        let a = campaign("a@example.com", subject: "Hello A <&>", metadata: ["n": "1"], cc: ["c@example.com"])
        let b = campaign("b@example.com", subject: "Hello B", metadata: ["n": "2"])
        let json = try SESPayload.sendBulkEmail([a, b], configurationSet: "cs")
        let root = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(root["FromEmailAddress"] as? String == MIMEBuilder.encodeAddress(a.message.content.from))
        #expect((root["FromEmailAddress"] as? String)?.hasPrefix("=?UTF-8?B?") == true)
        #expect(root["ReplyToAddresses"] as? [String] == ["help@example.com"])
        #expect(root["ConfigurationSetName"] as? String == "cs")
        let template = try #require((root["DefaultContent"] as? [String: Any])?["Template"] as? [String: Any])
        let content = try #require(template["TemplateContent"] as? [String: String])
        #expect(content["Subject"] == "{{mf_subject}}")
        #expect(content["Html"] == "<a href=\"{{mf_click_0}}\">x</a> <a href=\"{{mf_click_1}}\">y</a>{{mf_open}}")
        #expect(content["Text"] == "Hi, see {{mf_click_0}}")
        #expect(template["TemplateData"] as? String == "{}")
        // Custom headers are shared; reserved ones never reach SES (List-Id is not reserved).
        #expect(template["Headers"] as? [[String: String]] == [["Name": "List-Id", "Value": "<news.example.com>"], ["Name": "X-Campaign", "Value": "spring"]])
        let attachment = try #require((template["Attachments"] as? [[String: String]])?.first)
        #expect(attachment["ContentTransferEncoding"] == "BASE64")
        #expect(attachment["RawContent"].flatMap { Data(base64Encoded: $0) } == Data([0, 1, 2, 255]))
        #expect(attachment["FileName"] == "a.bin")

        let entries = try #require(root["BulkEmailEntries"] as? [[String: Any]])
        #expect(entries.count == 2)
        for (entry, message) in zip(entries, [a, b]) {
            let id = message.message.id.uuidString.lowercased()
            let data = try #require((((entry["ReplacementEmailContent"] as? [String: Any])?["ReplacementTemplate"] as? [String: Any])?["ReplacementTemplateData"] as? String))
            let values = try #require(JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: String])
            // Rendering the shared template with the entry's values gives exactly this message.
            #expect(render(content["Subject"]!, values) == message.message.content.subject)
            #expect(render(content["Html"]!, values) == message.html)
            #expect(render(content["Text"]!, values) == message.text)
            #expect(entry["ReplacementTags"] as? [[String: String]] == [["Name": "mailfleet_message_id", "Value": id]])
            let headers = try #require(entry["ReplacementHeaders"] as? [[String: String]])
            #expect(headers == [["Name": "X-Mailfleet-Message-Id", "Value": id], ["Name": "X-Mailfleet-Metadata", "Value": "{\"n\":\"\(message.message.content.metadata["n"]!)\"}"]])
        }
        let destination = try #require(entries[0]["Destination"] as? [String: [String]])
        #expect(destination == ["ToAddresses": ["a@example.com"], "CcAddresses": ["c@example.com"]])
    }

    @Test func aPlaceholderAMessageHasNoValueForStaysAsItIs() throws {
        let a = campaign("a@example.com", subject: "A")
        var b = campaign("b@example.com", subject: "B")
        b.substitutions["[[mf:click:1]]"] = nil
        let json = try SESPayload.sendBulkEmail([a, b], configurationSet: nil)
        let root = try #require(JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
        #expect(root["ConfigurationSetName"] == nil)
        let entries = try #require(root["BulkEmailEntries"] as? [[String: Any]])
        let data = try #require((((entries[1]["ReplacementEmailContent"] as? [String: Any])?["ReplacementTemplate"] as? [String: Any])?["ReplacementTemplateData"] as? String))
        let values = try #require(JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: String])
        #expect(values["mf_click_1"] == "[[mf:click:1]]")
        #expect(render("{{mf_click_1}}", values) == "[[mf:click:1]]")
    }

    @Test func messagesThatATemplateCannotCarryAreSentRaw() {
        func reasons(_ messages: [RenderedMessage]) -> [UUID: SESPayload.RawReason] {
            Dictionary(uniqueKeysWithValues: SESPayload.plan(messages).raw.map { ($0.0.message.id, $0.1) })
        }
        let a = campaign("a@example.com", subject: "A"), b = campaign("b@example.com", subject: "B")
        // Two messages of one body share a call; one alone goes raw.
        #expect(SESPayload.plan([a, b]).bulk.map { $0.map(\.message.id) } == [[a.message.id, b.message.id]])
        #expect(SESPayload.plan([a]).bulk.isEmpty)
        #expect(reasons([a]) == [a.message.id: .alone])

        // Braces in a subject send that message raw; the rest still share a call.
        let c = campaign("c@example.com", subject: "Price {{x}}")
        #expect(reasons([a, b, c]) == [c.message.id: .braces])
        #expect(SESPayload.plan([a, b, c]).bulk.count == 1)
        // ... and when that leaves one message, it goes raw too.
        #expect(reasons([a, c]) == [a.message.id: .alone, c.message.id: .braces])

        // Braces in a body: the whole body goes raw.
        let braced = [a, b].map { m -> RenderedMessage in
            var m = m
            m.htmlTemplate = "<p>{{ not ours }}</p>"
            return m
        }
        #expect(Set(reasons(braced).values) == [.braces])

        // No body at all.
        let empty = [a, b].map { m -> RenderedMessage in
            var m = m
            m.htmlTemplate = nil
            m.textTemplate = nil
            return m
        }
        #expect(Set(reasons(empty).values) == [.noBody])

        // More custom headers than Template.Headers takes, or a value SES cannot carry.
        let headers = [a, b].map { m -> RenderedMessage in
            var m = m
            m.message.content.headers = Dictionary(uniqueKeysWithValues: (0..<16).map { ("X-H\($0)", "v") })
            return m
        }
        #expect(Set(reasons(headers).values) == [.tooManyHeaders])
        let fifteen = [a, b].map { m -> RenderedMessage in
            var m = m
            m.message.content.headers = Dictionary(uniqueKeysWithValues: (0..<15).map { ("X-H\($0)", "v") })
            return m
        }
        #expect(reasons(fifteen).isEmpty)
        let long = [a, b].map { m -> RenderedMessage in
            var m = m
            m.message.content.headers = ["X-Long": String(repeating: "é", count: 400)]
            return m
        }
        #expect(Set(reasons(long).values) == [.header])

        // Per message: too many recipients, or a metadata header too long for SES.
        var wide = campaign("w@example.com", subject: "W")
        wide.message.content.cc = (0..<50).map { try! EmailAddress(email: "cc\($0)@example.com") }
        var tagged = campaign("t@example.com", subject: "T")
        tagged.message.content.metadata = ["k": String(repeating: "x", count: 880)]
        #expect(reasons([a, b, wide, tagged]) == [wide.message.id: .tooManyRecipients, tagged.message.id: .metadataHeader])

        // A long attachment name.
        let named = [a, b].map { m -> RenderedMessage in
            var m = m
            m.message.content.attachments = [MessageAttachment(filename: String(repeating: "n", count: 256), contentType: "text/plain", data: Data())]
            return m
        }
        #expect(Set(reasons(named).values) == [.attachmentName])
    }

    @Test func callsHoldFiftyMessagesOfOneBodyEach() {
        let messages = (0..<120).map { campaign("u\($0)@example.com", subject: "S\($0)") }
        var other = campaign("o@example.com", subject: "O")
        other.textTemplate = "another body"
        var another = campaign("p@example.com", subject: "P")
        another.textTemplate = "another body"
        let plan = SESPayload.plan(messages + [other, another])
        #expect(plan.bulk.map(\.count) == [50, 50, 20, 2])
        #expect(plan.raw.isEmpty)
    }

    @Test func entryResultsAreClassifiedPerMessage() {
        #expect(SESPayload.entryResult(status: "SUCCESS", error: nil, messageID: "m1") == .accepted(messageID: "m1"))
        for status in ["MESSAGE_REJECTED", "INVALID_PARAMETER"] {
            #expect(SESPayload.entryResult(status: status, error: "no", messageID: nil) == .rejected(reason: "ses \(status): no"))
        }
        for status in ["ACCOUNT_THROTTLED", "TRANSIENT_FAILURE", "FAILED", "ACCOUNT_DAILY_QUOTA_EXCEEDED", "SOMETHING_NEW"] {
            #expect(SESPayload.entryResult(status: status, error: nil, messageID: nil) == .retryable(reason: "ses \(status)"))
        }
        for status in [
            "ACCOUNT_SUSPENDED", "ACCOUNT_SENDING_PAUSED", "MAIL_FROM_DOMAIN_NOT_VERIFIED", "CONFIGURATION_SET_NOT_FOUND",
            "CONFIGURATION_SET_SENDING_PAUSED", "TEMPLATE_NOT_FOUND", "INVALID_SENDING_POOL_NAME",
        ] {
            #expect(SESPayload.entryResult(status: status, error: nil, messageID: nil) == .accountFailure(reason: "ses \(status)"))
        }
        let body = #"{"BulkEmailEntryResults":[{"Status":"SUCCESS","MessageId":"m1"},{"Status":"MESSAGE_REJECTED","Error":"bad"},{"Status":"ACCOUNT_THROTTLED"}]}"#
        #expect(SESPayload.bulkResults(Array(body.utf8), count: 3) == [.accepted(messageID: "m1"), .rejected(reason: "ses MESSAGE_REJECTED: bad"), .retryable(reason: "ses ACCOUNT_THROTTLED")])
        #expect(SESPayload.bulkResults(Array(body.utf8), count: 2) == nil)
        #expect(SESPayload.bulkResults(Array("{}".utf8), count: 0) == nil)
    }
}
