import Foundation

/// A message ready for a provider: bodies as templates shared by every message of the same
/// campaign, plus the per-message values (tracking URLs) that fill their placeholders.
///
/// Keeping the per-message parts out of the bodies is what lets a batching provider send one
/// body for up to 1,000 recipients (SendGrid substitutions, Mailgun recipient-variables).
public struct RenderedMessage: Sendable, Hashable {
    /// The message being sent.
    public var message: Message
    /// The HTML body, possibly holding `[[mf:...]]` placeholders.
    public var htmlTemplate: String?
    /// The text body, possibly holding placeholders.
    public var textTemplate: String?
    /// Placeholder → this message's value.
    public var substitutions: [String: String]
    /// The one-click unsubscribe its headers carry, or nil when it carries none.
    public var listUnsubscribe: ListUnsubscribe?

    /// Creates a rendered message.
    public init(
        message: Message, htmlTemplate: String?, textTemplate: String?, substitutions: [String: String] = [:],
        listUnsubscribe: ListUnsubscribe? = nil
    ) {
        self.message = message
        self.htmlTemplate = htmlTemplate
        self.textTemplate = textTemplate
        self.substitutions = substitutions
        self.listUnsubscribe = listUnsubscribe
    }

    /// Headers with a value of this message's own (List-Unsubscribe), in the order to write them.
    public var ownHeaders: [(name: String, value: String)] { listUnsubscribe?.headers ?? [] }

    /// The HTML body with this message's values filled in.
    public var html: String? { htmlTemplate.map(fill) }
    /// The text body with this message's values filled in.
    public var text: String? { textTemplate.map(fill) }

    private func fill(_ template: String) -> String {
        guard !substitutions.isEmpty else { return template }
        var out = template
        for (placeholder, value) in substitutions { out = ASCIISearch.replacingAll(placeholder, with: value, in: out) }
        return out
    }

    /// What must be equal for two messages to share one provider call's body.
    public var contentKey: ContentKey {
        let c = message.content
        return ContentKey(
            from: c.from, replyTo: c.replyTo, html: htmlTemplate, text: textTemplate, headers: c.headers, attachments: c.attachments,
            listUnsubscribe: listUnsubscribe != nil)
    }
}

/// The body-level identity of a rendered message; recipients and subject may differ per message.
public struct ContentKey: Sendable, Hashable {
    /// The sender.
    public var from: EmailAddress
    /// The reply-to address.
    public var replyTo: EmailAddress?
    /// The HTML template.
    public var html: String?
    /// The text template.
    public var text: String?
    /// Extra headers.
    public var headers: [String: String]
    /// Attached files (part of the shared body).
    public var attachments: [MessageAttachment] = []
    /// Whether the messages carry List-Unsubscribe headers: a shared call writes its header
    /// names once for every recipient, so messages with and without them never share one.
    public var listUnsubscribe = false

    /// Hashes the bodies by length and first bytes rather than whole: every message of a round
    /// is hashed, bodies run to kilobytes, and equality (which compares them whole, at once when
    /// both share storage, as a campaign's cached body does) settles the rare collision.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(from)
        hasher.combine(replyTo)
        for body in [html, text] {
            guard let body else {
                hasher.combine(-1)
                continue
            }
            var copy = body
            copy.withUTF8 { bytes in
                hasher.combine(bytes.count)
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes.prefix(64))))
            }
        }
        hasher.combine(headers.count)
        hasher.combine(attachments.count)
        hasher.combine(listUnsubscribe)
    }
}

/// Adds open and click tracking to a message's HTML, and the one-click unsubscribe to its
/// headers and `{{unsubscribe_url}}` links, as placeholders filled per message.
public struct TrackingRenderer: Sendable {
    /// The tracker's public base URL, e.g. `https://t.example.com`.
    public let trackerBaseURL: String
    /// Signs the tokens inside tracking URLs.
    public let signer: TrackingSigner

    /// The open pixel's placeholder.
    public static let openPlaceholder = "[[mf:open]]"
    /// The unsubscribe link's placeholder, which templates' `{{unsubscribe_url}}` renders to.
    public static let unsubscribePlaceholder = "[[mf:unsubscribe]]"

    /// Creates a renderer.
    public init(trackerBaseURL: String, signer: TrackingSigner) {
        self.trackerBaseURL = Self.trimmed(trackerBaseURL)
        self.signer = signer
    }

    /// Renders a message with its tenant's settings: rewrites `href="http…"` links and appends
    /// the open pixel when the message asks for them, fills unsubscribe placeholders, and adds
    /// List-Unsubscribe to bulk mail (and to transactional mail when the tenant asks). Open and
    /// click tokens carry `sentAt`, so the tracker can tell a scanner's fetch at delivery.
    public func render(_ message: Message, tenant: TenantTracking = TenantTracking(), sentAt: Date? = nil) -> RenderedMessage {
        let content = message.content
        let base = Self.trimmed(tenant.baseURL(fallback: trackerBaseURL))
        var substitutions: [String: String] = [:]
        var listUnsubscribe: ListUnsubscribe?
        let linked = [content.html, content.text].contains { $0.map { ASCIISearch.contains(Self.unsubscribePlaceholder, in: $0) } ?? false }
        // The token names the first `to` address: a message has one set of headers, and bulk
        // mail is one recipient per message.
        if linked || tenant.carriesListUnsubscribe(message.priority), let recipient = content.to.first {
            let token = TrackingToken(kind: .unsubscribe, messageID: message.id, tenantID: message.tenantID, recipient: recipient.email)
            let url = "\(base)/u/\(signer.sign(token))"
            if linked { substitutions[Self.unsubscribePlaceholder] = url }
            if tenant.carriesListUnsubscribe(message.priority) { listUnsubscribe = ListUnsubscribe(url: url, mailto: tenant.unsubscribeMailto) }
        }
        guard var html = content.html, content.trackOpens || content.trackClicks else {
            return RenderedMessage(
                message: message, htmlTemplate: content.html, textTemplate: content.text, substitutions: substitutions,
                listUnsubscribe: listUnsubscribe)
        }
        if content.trackClicks {
            let links = LinkScanner.links(in: html)
            var rebuilt = ""
            var cursor = html.startIndex
            for (index, link) in links.enumerated() {
                let placeholder = "[[mf:click:\(index)]]"
                rebuilt += html[cursor..<link.range.lowerBound]
                rebuilt += placeholder
                cursor = link.range.upperBound
                let token = TrackingToken(kind: .click, messageID: message.id, tenantID: message.tenantID, url: link.url, sentAt: sentAt)
                substitutions[placeholder] = "\(base)/c/\(signer.sign(token))"
            }
            rebuilt += html[cursor...]
            html = rebuilt
        }
        if content.trackOpens {
            let pixel = "<img src=\"\(TrackingRenderer.openPlaceholder)\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">"
            if let bodyEnd = ASCIISearch.lastIndexIgnoringCase(of: "</body>", in: html) {
                html.insert(contentsOf: pixel, at: bodyEnd)
            } else {
                html += pixel
            }
            let token = TrackingToken(kind: .open, messageID: message.id, tenantID: message.tenantID, sentAt: sentAt)
            substitutions[TrackingRenderer.openPlaceholder] = "\(base)/o/\(signer.sign(token)).gif"
        }
        return RenderedMessage(
            message: message, htmlTemplate: html, textTemplate: content.text, substitutions: substitutions, listUnsubscribe: listUnsubscribe)
    }

    private static func trimmed(_ url: String) -> String {
        var base = url
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

/// Finds absolute http(s) links in `href` attributes.
enum LinkScanner {
    struct Link {
        /// The range of the URL itself (inside the quotes).
        var range: Range<String.Index>
        var url: String
    }

    static func links(in html: String) -> [Link] {
        var copy = html
        let found: [(start: Int, end: Int)] = copy.withUTF8 { bytes in
            var result: [(start: Int, end: Int)] = []
            var search = 0
            while let href = ASCIISearch.firstOffset(of: "href=", in: bytes, from: search, caseInsensitive: true) {
                search = href + 5
                guard search < bytes.count else { break }
                let quote = bytes[search]
                guard quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") else { continue }
                let start = search + 1
                guard let end = bytes[start...].firstIndex(of: quote) else { break }
                result.append((start, end))
                search = end
            }
            return result
        }
        let utf8 = html.utf8
        var result: [Link] = []
        for (start, end) in found {
            let range = utf8.index(utf8.startIndex, offsetBy: start)..<utf8.index(utf8.startIndex, offsetBy: end)
            let url = String(html[range])
            if ASCIISearch.hasPrefixIgnoringCase("http://", url) || ASCIISearch.hasPrefixIgnoringCase("https://", url) {
                result.append(Link(range: range, url: ASCIISearch.replacingAll("&amp;", with: "&", in: url)))
            }
        }
        return result
    }
}
