import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

@Suite struct ListUnsubscribeTests {
    let signer = TrackingSigner(secret: "test-secret")
    var renderer: TrackingRenderer { TrackingRenderer(trackerBaseURL: "https://t.example.com/", signer: signer) }

    /// The token inside an unsubscribe URL, verified.
    func token(_ url: String?, base: String = "https://t.example.com") -> TrackingToken? {
        guard let url, url.hasPrefix(base + "/u/") else { return nil }
        return signer.verify(String(url.dropFirst(base.count + 3)))
    }

    @Test func unsubscribeTokensCarryTheRecipientAndRefuseTampering() throws {
        let token = TrackingToken(kind: .unsubscribe, messageID: UUID(), tenantID: UUID(), recipient: "bob@example.com")
        let signed = signer.sign(token)
        #expect(signer.verify(signed) == token)
        // Another address under the old MAC would unsubscribe someone else: refused.
        var other = token
        other.recipient = "alice@example.com"
        let forged = "\(signer.sign(other).split(separator: ".")[0]).\(signed.split(separator: ".")[1])"
        #expect(signer.verify(forged) == nil)
        #expect(TrackingSigner(secret: "other").verify(signed) == nil)
        // Open and click tokens are signed as before (no recipient field), so links already
        // sent keep working.
        let click = TrackingToken(kind: .click, messageID: UUID(), tenantID: UUID(), url: "https://x.example")
        let payload = try #require(Base64URL.decode(String(signer.sign(click).split(separator: ".")[0])))
        #expect(!String(decoding: payload, as: UTF8.self).contains("\"r\""))
        #expect(signer.verify(signer.sign(click)) == click)
    }

    @Test func bulkMailCarriesOneClickHeadersForItsFirstRecipient() throws {
        let message = makeMessage(to: ["Bob@Example.com", "second@example.com"])
        let rendered = renderer.render(message)
        let unsubscribe = try #require(rendered.listUnsubscribe)
        let parsed = try #require(token(unsubscribe.url))
        #expect(parsed.kind == .unsubscribe && parsed.messageID == message.id && parsed.tenantID == message.tenantID)
        #expect(parsed.recipient == message.content.to[0].email)
        #expect(rendered.ownHeaders.map(\.name) == ["List-Unsubscribe", "List-Unsubscribe-Post"])
        #expect(rendered.ownHeaders[0].value == "<\(unsubscribe.url)>")
        #expect(rendered.ownHeaders[1].value == "List-Unsubscribe=One-Click")
    }

    @Test func transactionalMailCarriesThemOnlyWhenTheTenantAsks() {
        var message = makeMessage()
        message.priority = .transactional
        #expect(renderer.render(message).listUnsubscribe == nil)
        #expect(renderer.render(message).ownHeaders.isEmpty)
        let opted = renderer.render(message, tenant: TenantTracking(unsubscribeTransactional: true))
        #expect(opted.listUnsubscribe != nil)
    }

    @Test func theTenantsHostAndMailboxAreUsed() throws {
        let html = #"<a href="https://shop.example/x">x</a><a href="[[mf:unsubscribe]]">stop</a>"#
        let message = makeMessage(html: html, trackOpens: true, trackClicks: true)
        let tenant = TenantTracking(trackingHost: "links.brand.example", unsubscribeMailto: "unsub@brand.example")
        let rendered = renderer.render(message, tenant: tenant)
        let unsubscribe = try #require(rendered.listUnsubscribe)
        #expect(token(unsubscribe.url, base: "https://links.brand.example") != nil)
        #expect(rendered.ownHeaders[0].value == "<\(unsubscribe.url)>, <mailto:unsub@brand.example?subject=unsubscribe>")
        #expect(rendered.substitutions["[[mf:click:0]]"]?.hasPrefix("https://links.brand.example/c/") == true)
        #expect(rendered.substitutions["[[mf:open]]"]?.hasPrefix("https://links.brand.example/o/") == true)
        // The visible link is the header's URL, and the click tracker never wraps it.
        #expect(rendered.substitutions[TrackingRenderer.unsubscribePlaceholder] == unsubscribe.url)
        #expect(rendered.html?.contains("href=\"\(unsubscribe.url)\"") == true)
        #expect(rendered.substitutions["[[mf:click:1]]"] == nil)
    }

    @Test func aVisibleLinkIsFilledEvenWithoutTheHeaders() throws {
        var message = makeMessage()
        message.priority = .transactional
        message.content.text = "Stop: [[mf:unsubscribe]]"
        let rendered = renderer.render(message)
        #expect(rendered.listUnsubscribe == nil)
        let url = try #require(rendered.substitutions[TrackingRenderer.unsubscribePlaceholder])
        #expect(token(url)?.kind == .unsubscribe)
        #expect(rendered.text == "Stop: \(url)")
    }

    @Test func templatesRenderUnsubscribeURLAsThePlaceholder() throws {
        let template = MessageTemplate(subject: "Hi", text: "Stop: {{unsubscribe_url}}", html: #"<a href="{{unsubscribe_url}}">stop</a>"#)
        // A caller's own value never replaces the signed link.
        let rendered = try template.render(variables: .object(["unsubscribe_url": .string("https://evil.example")]))
        #expect(rendered.text == "Stop: [[mf:unsubscribe]]")
        #expect(rendered.html == #"<a href="[[mf:unsubscribe]]">stop</a>"#)
    }

    @Test func trackingHostsAreNormalisedOrRefused() {
        #expect(TenantTracking.normalisedHost("Links.Brand.Example") == "links.brand.example")
        #expect(TenantTracking.normalisedHost("t.example.com:8443") == "t.example.com:8443")
        for bad in ["https://t.example.com", "t.example.com/x", "", "t..example", "-t.example", "t.example:0", "t.example:99999", "a b.example", "t.example:"] {
            #expect(TenantTracking.normalisedHost(bad) == nil, "\(bad)")
        }
        #expect(TenantTracking().baseURL(fallback: "http://localhost:8081") == "http://localhost:8081")
        #expect(TenantTracking(trackingHost: "t.brand.example").baseURL(fallback: "x") == "https://t.brand.example")
    }

    @Test func messagesWithAndWithoutHeadersNeverShareABody() {
        var transactional = makeMessage()
        transactional.priority = .transactional
        let bulk = makeMessage()
        #expect(renderer.render(transactional).contentKey != renderer.render(bulk).contentKey)
        #expect(renderer.render(bulk).contentKey == renderer.render(makeMessage()).contentKey)
    }

    // MARK: Every provider format writes the headers

    func bulk(_ to: String) -> RenderedMessage { renderer.render(makeMessage(to: [to], html: "<p>hi</p>")) }

    @Test func mimeCarriesTheHeaders() {
        let rendered = bulk("a@example.com")
        let mime = MIMEBuilder().build(rendered)
        let head = String(mime[..<mime.range(of: "\r\n\r\n")!.lowerBound])
        #expect(head.contains("\r\nList-Unsubscribe: <\(rendered.listUnsubscribe!.url)>\r\n"))
        #expect(head.contains("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
        var plain = makeMessage()
        plain.priority = .transactional
        #expect(!MIMEBuilder().build(renderer.render(plain)).contains("List-Unsubscribe"))
    }

    @Test func sendGridPersonalizationsCarryTheirOwnHeaders() throws {
        let messages = [bulk("a@example.com"), bulk("b@example.com")]
        let batch = ProviderBatch(account: account(.sendgrid), messages: messages)
        let json = try #require(JSONSerialization.jsonObject(with: Data(try SendGridPayload.encode(batch))) as? [String: Any])
        let personalizations = try #require(json["personalizations"] as? [[String: Any]])
        for (p, m) in zip(personalizations, messages) {
            #expect(p["headers"] as? [String: String] == [
                "List-Unsubscribe": "<\(m.listUnsubscribe!.url)>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            ])
        }
    }

    @Test func mailgunBatchesUseARecipientVariableAndSingleCallsTheValue() throws {
        let a = bulk("a@example.com")
        let b = bulk("b@example.com")
        let form = MailgunPayload.form(for: [a, b], batched: true)
        #expect(form.values("h:List-Unsubscribe") == ["%recipient.mf_h_list_unsubscribe%"])
        #expect(form.values("h:List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"])
        let variables = try #require(JSONSerialization.jsonObject(with: Data(form.values("recipient-variables")[0].utf8)) as? [String: [String: String]])
        #expect(variables["a@example.com"]?["mf_h_list_unsubscribe"] == "<\(a.listUnsubscribe!.url)>")
        #expect(variables["b@example.com"]?["mf_h_list_unsubscribe"] == "<\(b.listUnsubscribe!.url)>")
        let single = MailgunPayload.form(for: [a], batched: false)
        #expect(single.values("h:List-Unsubscribe") == ["<\(a.listUnsubscribe!.url)>"])
        #expect(single.values("h:List-Unsubscribe-Post") == ["List-Unsubscribe=One-Click"])
    }

    @Test func postmarkMessagesCarryTheHeaders() throws {
        var a = bulk("a@example.com")
        a.message.content.headers = ["X-Campaign": "spring"]
        let items = try #require(JSONSerialization.jsonObject(with: Data(try PostmarkPayload.encode([a], messageStream: nil))) as? [[String: Any]])
        #expect(items[0]["Headers"] as? [[String: String]] == [
            ["Name": "List-Unsubscribe", "Value": "<\(a.listUnsubscribe!.url)>"],
            ["Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"],
            ["Name": "X-Campaign", "Value": "spring"],
        ])
    }

    @Test func sesBulkEntriesAndRawMessagesCarryTheHeaders() throws {
        let messages = [bulk("a@example.com"), bulk("b@example.com")]
        #expect(SESPayload.plan(messages).bulk.count == 1)
        let root = try #require(JSONSerialization.jsonObject(with: Data(try SESPayload.sendBulkEmail(messages, configurationSet: nil))) as? [String: Any])
        let entries = try #require(root["BulkEmailEntries"] as? [[String: Any]])
        for (entry, m) in zip(entries, messages) {
            let headers = try #require(entry["ReplacementHeaders"] as? [[String: String]])
            #expect(Array(headers.dropFirst()) == [
                ["Name": "List-Unsubscribe", "Value": "<\(m.listUnsubscribe!.url)>"],
                ["Name": "List-Unsubscribe-Post", "Value": "List-Unsubscribe=One-Click"],
            ])
        }
        // A header SES would refuse in an entry sends that message raw instead.
        var long = bulk("c@example.com")
        long.listUnsubscribe?.mailto = String(repeating: "u", count: 64) + "@" + String(repeating: "d", count: 800) + ".example"
        #expect(SESPayload.plan([messages[0], messages[1], long]).raw.map(\.1) == [.header])
        let mime = MIMEBuilder().build(messages[0])
        let raw = try #require(JSONSerialization.jsonObject(with: Data(try SESPayload.sendEmail(messages[0], mime: mime, configurationSet: nil))) as? [String: Any])
        let data = try #require((((raw["Content"] as? [String: Any])?["Raw"] as? [String: Any])?["Data"] as? String).flatMap { Data(base64Encoded: $0) })
        #expect(String(decoding: data, as: UTF8.self).contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"))
    }
}
