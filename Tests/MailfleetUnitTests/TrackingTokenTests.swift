import Crypto
import Foundation
import MailfleetCore
import Testing

@Suite struct TrackingTokenTests {
    let signer = TrackingSigner(secret: "test-secret")

    @Test func signedTokensVerify() {
        let token = TrackingToken(kind: .click, messageID: UUID(), tenantID: UUID(), url: "https://example.com/a?b=c&d=e")
        #expect(signer.verify(signer.sign(token)) == token)
    }

    @Test func tamperedTokensAndOtherSecretsFail() {
        let token = TrackingToken(kind: .click, messageID: UUID(), tenantID: UUID(), url: "https://example.com")
        let signed = signer.sign(token)
        #expect(TrackingSigner(secret: "other").verify(signed) == nil)
        // Swap in a payload pointing elsewhere, keeping the old MAC.
        let evil = TrackingToken(kind: .click, messageID: token.messageID, tenantID: token.tenantID, url: "https://evil.example")
        let evilPayload = signer.sign(evil).split(separator: ".")[0]
        let forged = "\(evilPayload).\(signed.split(separator: ".")[1])"
        #expect(signer.verify(forged) == nil)
        #expect(signer.verify("garbage") == nil)
        #expect(signer.verify("a.b.c") == nil)
    }

    @Test func rendererAddsPixelAndRewritesLinksAsPlaceholders() {
        let html = #"<html><body><a href="https://example.com/x?a=1&amp;b=2">x</a> <a href='http://example.org'>y</a> <a href="mailto:a@b.c">m</a></body></html>"#
        let message = makeMessage(html: html, trackOpens: true, trackClicks: true)
        let renderer = TrackingRenderer(trackerBaseURL: "https://t.example.com/", signer: signer)
        let rendered = renderer.render(message)
        let template = rendered.htmlTemplate ?? ""
        #expect(template.contains("[[mf:click:0]]"))
        #expect(template.contains("[[mf:click:1]]"))
        #expect(template.contains("mailto:a@b.c"))
        #expect(template.contains("[[mf:open]]"))
        #expect(template.range(of: "[[mf:open]]")!.lowerBound < template.range(of: "</body>")!.lowerBound)
        let final = rendered.html ?? ""
        #expect(!final.contains("[[mf:"))
        // The substituted click URL carries a token for the original link.
        let click = rendered.substitutions["[[mf:click:0]]"] ?? ""
        #expect(click.hasPrefix("https://t.example.com/c/"))
        let token = signer.verify(String(click.dropFirst("https://t.example.com/c/".count)))
        #expect(token?.url == "https://example.com/x?a=1&b=2")
        #expect(token?.messageID == message.id)
        // Two messages of one campaign share a template, so they can share a provider call.
        let other = renderer.render(makeMessage(html: html, trackOpens: true, trackClicks: true))
        #expect(other.htmlTemplate == rendered.htmlTemplate)
        #expect(other.substitutions != rendered.substitutions)
    }

    @Test func linksAreFoundWhateverTheCaseAndTheTextAroundThem() {
        // Multi-byte text before and between links, upper-case attribute and scheme, a quote
        // left open at the end: the byte scanner keeps the ranges String indices can use.
        let html = "<p>Grüße 日本</p><A HREF=\"HTTPS://example.com/é?a=1&amp;b=2\">x</A> é <a href='http://x.org'>y</a><a href=\"/relative\">r</a><a href=\"https://open"
        let message = makeMessage(html: html, trackOpens: false, trackClicks: true)
        let rendered = TrackingRenderer(trackerBaseURL: "https://t.example.com", signer: signer).render(message)
        #expect(rendered.htmlTemplate == "<p>Grüße 日本</p><A HREF=\"[[mf:click:0]]\">x</A> é <a href='[[mf:click:1]]'>y</a><a href=\"/relative\">r</a><a href=\"https://open")
        let urls = (0..<2).map { signer.verify(String((rendered.substitutions["[[mf:click:\($0)]]"] ?? "").dropFirst("https://t.example.com/c/".count)))?.url }
        #expect(urls == ["HTTPS://example.com/é?a=1&b=2", "http://x.org"])
    }

    @Test func thePayloadIsWhatJSONEncoderWritesAndReadsBackAsTheSameToken() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let sent = Date(timeIntervalSince1970: 1_764_000_000.123)
        let tokens = [
            TrackingToken(kind: .open, messageID: UUID(), tenantID: UUID(), sentAt: sent),
            TrackingToken(kind: .click, messageID: UUID(), tenantID: UUID(), url: "https://x.org/é?q=\"a\"&b=<c>\\", sentAt: sent),
            TrackingToken(kind: .unsubscribe, messageID: UUID(), tenantID: UUID(), recipient: "ö@example.com"),
        ]
        for token in tokens {
            #expect(String(decoding: token.payloadJSON, as: UTF8.self) == String(decoding: try encoder.encode(token), as: UTF8.self))
            #expect(try JSONDecoder().decode(TrackingToken.self, from: Data(token.payloadJSON)) == token)
            #expect(signer.verify(signer.sign(token)) == token)
        }
    }

    @Test func base64URLMatchesTheStandardAlphabetWithItsTwoSubstitutionsAndNoPadding() {
        var rng = SystemRandomNumberGenerator()
        for length in 0..<64 {
            let data = Data((0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let expected = data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(Base64URL.encode(data) == expected)
            #expect(Base64URL.decode(Base64URL.encode(data)) == data)
        }
    }

    @Test func untrackedMessagesAreUntouched() {
        let message = makeMessage(html: "<a href=\"https://x.example\">x</a>")
        let rendered = TrackingRenderer(trackerBaseURL: "https://t", signer: signer).render(message)
        #expect(rendered.htmlTemplate == message.content.html)
        #expect(rendered.substitutions.isEmpty)
    }
}

/// Tokens carry the send time, and tokens signed before they did still verify.
@Suite struct TrackingTokenSendTimeTests {
    let signer = TrackingSigner(secret: "test-secret")

    @Test func sendTimeTravelsInTheToken() throws {
        let sentAt = Date(timeIntervalSince1970: 1_800_000_000.123)
        let token = TrackingToken(kind: .open, messageID: UUID(), tenantID: UUID(), sentAt: sentAt)
        let verified = try #require(signer.verify(signer.sign(token)))
        #expect(verified == token)
        #expect(abs(try #require(verified.sentAt).timeIntervalSince(sentAt)) < 0.001)
    }

    @Test func tokensWithoutASendTimeStayValid() throws {
        // Signed the way tokens were before the send time was added: no "s" in the payload.
        let payload = Base64URL.encode(Data(#"{"k":"o","m":"7D444840-9DC0-11D1-B245-5FFDCE74FAD2","t":"7D444840-9DC0-11D1-B245-5FFDCE74FAD3"}"#.utf8))
        let mac = Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: SymmetricKey(data: Data("test-secret".utf8)))))
        let verified = try #require(signer.verify(payload + "." + mac))
        #expect(verified.kind == .open)
        #expect(verified.sentAt == nil)
    }

    @Test func rendererStampsOpenAndClickTokensWithTheSendTime() throws {
        let sentAt = Date(timeIntervalSince1970: 1_800_000_000)
        let message = makeMessage(html: #"<a href="https://example.com/x">x</a>"#, trackOpens: true, trackClicks: true)
        let rendered = TrackingRenderer(trackerBaseURL: "https://t", signer: signer).render(message, sentAt: sentAt)
        let urls = rendered.substitutions.values.filter { $0.contains("/o/") || $0.contains("/c/") }
        #expect(urls.count == 2)
        for url in urls {
            var token = String(url.split(separator: "/").last ?? "")
            if token.hasSuffix(".gif") { token.removeLast(4) }
            #expect(signer.verify(token)?.sentAt == sentAt, "\(url)")
        }
    }
}
