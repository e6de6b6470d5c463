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

    /// Creates a rendered message.
    public init(message: Message, htmlTemplate: String?, textTemplate: String?, substitutions: [String: String] = [:]) {
        self.message = message
        self.htmlTemplate = htmlTemplate
        self.textTemplate = textTemplate
        self.substitutions = substitutions
    }

    /// The HTML body with this message's values filled in.
    public var html: String? { htmlTemplate.map(fill) }
    /// The text body with this message's values filled in.
    public var text: String? { textTemplate.map(fill) }

    private func fill(_ template: String) -> String {
        guard !substitutions.isEmpty else { return template }
        var out = template
        for (placeholder, value) in substitutions { out = out.replacingOccurrences(of: placeholder, with: value) }
        return out
    }

    /// What must be equal for two messages to share one provider call's body.
    public var contentKey: ContentKey {
        let c = message.content
        return ContentKey(from: c.from, replyTo: c.replyTo, html: htmlTemplate, text: textTemplate, headers: c.headers, attachments: c.attachments)
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
    }
}

/// Adds open and click tracking to a message's HTML as placeholders filled per message.
public struct TrackingRenderer: Sendable {
    /// The tracker's public base URL, e.g. `https://t.example.com`.
    public let trackerBaseURL: String
    /// Signs the tokens inside tracking URLs.
    public let signer: TrackingSigner

    /// The open pixel's placeholder.
    public static let openPlaceholder = "[[mf:open]]"

    /// Creates a renderer.
    public init(trackerBaseURL: String, signer: TrackingSigner) {
        var base = trackerBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.trackerBaseURL = base
        self.signer = signer
    }

    /// Renders a message: rewrites `href="http…"` links and appends the open pixel when the
    /// message asks for it.
    public func render(_ message: Message) -> RenderedMessage {
        let content = message.content
        guard var html = content.html, content.trackOpens || content.trackClicks else {
            return RenderedMessage(message: message, htmlTemplate: content.html, textTemplate: content.text)
        }
        var substitutions: [String: String] = [:]
        if content.trackClicks {
            let links = LinkScanner.links(in: html)
            var rebuilt = ""
            var cursor = html.startIndex
            for (index, link) in links.enumerated() {
                let placeholder = "[[mf:click:\(index)]]"
                rebuilt += html[cursor..<link.range.lowerBound]
                rebuilt += placeholder
                cursor = link.range.upperBound
                let token = TrackingToken(kind: .click, messageID: message.id, tenantID: message.tenantID, url: link.url)
                substitutions[placeholder] = "\(trackerBaseURL)/c/\(signer.sign(token))"
            }
            rebuilt += html[cursor...]
            html = rebuilt
        }
        if content.trackOpens {
            let pixel = "<img src=\"\(TrackingRenderer.openPlaceholder)\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none\">"
            if let bodyEnd = html.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
                html.insert(contentsOf: pixel, at: bodyEnd.lowerBound)
            } else {
                html += pixel
            }
            let token = TrackingToken(kind: .open, messageID: message.id, tenantID: message.tenantID)
            substitutions[TrackingRenderer.openPlaceholder] = "\(trackerBaseURL)/o/\(signer.sign(token)).gif"
        }
        return RenderedMessage(message: message, htmlTemplate: html, textTemplate: content.text, substitutions: substitutions)
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
        var result: [Link] = []
        var search = html.startIndex
        while let hrefRange = html.range(of: "href=", options: .caseInsensitive, range: search..<html.endIndex) {
            search = hrefRange.upperBound
            guard search < html.endIndex else { break }
            let quote = html[search]
            guard quote == "\"" || quote == "'" else { continue }
            let start = html.index(after: search)
            guard let end = html[start...].firstIndex(of: quote) else { break }
            let url = String(html[start..<end])
            let lower = url.lowercased()
            if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
                result.append(Link(range: start..<end, url: url.replacingOccurrences(of: "&amp;", with: "&")))
            }
            search = end
        }
        return result
    }
}
