import Foundation
import MailfleetCore

/// Builds RFC 5322 / MIME messages: CRLF line ends, no line over 998 octets (bodies are
/// quoted-printable, attachments base64, both in lines of ≤ 76), RFC 2047 encoded words for
/// non-ASCII header text, multipart/alternative when there are both text and HTML parts, and
/// multipart/mixed around it when there are attachments (names per RFC 2231).
public struct MIMEBuilder: Sendable {
    /// The domain used in Message-ID and boundaries.
    public var domain: String

    /// Creates a builder whose Message-IDs end in `@domain`.
    public init(domain: String = "mailfleet.local") {
        self.domain = domain
    }

    /// The complete message text for one rendered message.
    public func build(_ rendered: RenderedMessage, date: Date = Date()) -> String {
        let message = rendered.message
        let content = message.content
        var headers: [(String, String)] = []
        headers.append(("From", MIMEBuilder.encodeAddress(content.from)))
        headers.append(("To", content.to.map(MIMEBuilder.encodeAddress).joined(separator: ", ")))
        if !content.cc.isEmpty { headers.append(("Cc", content.cc.map(MIMEBuilder.encodeAddress).joined(separator: ", "))) }
        if let replyTo = content.replyTo { headers.append(("Reply-To", MIMEBuilder.encodeAddress(replyTo))) }
        headers.append(("Subject", MIMEBuilder.encodeHeaderText(content.subject)))
        headers.append(("Date", MIMEBuilder.rfc5322Date(date)))
        headers.append(("Message-ID", "<\(message.id.lowercasedString)@\(domain)>"))
        headers.append(("MIME-Version", "1.0"))
        headers.append(("X-Mailfleet-Message-Id", message.id.lowercasedString))
        if let metadata = MIMEBuilder.metadataHeader(content.metadata) { headers.append(("X-Mailfleet-Metadata", metadata)) }
        for header in rendered.ownHeaders { headers.append((header.name, header.value)) }
        for (name, value) in content.headers.sorted(by: { $0.key < $1.key }) where !HeaderRules.isReserved(name) {
            headers.append((name, MIMEBuilder.encodeHeaderText(value)))
        }

        let id = message.id.lowercasedString
        let body = MIMEBuilder.bodyPart(text: rendered.text, html: rendered.html, boundary: "=_mf_alt_\(id.prefix(18))")
        guard !content.attachments.isEmpty else {
            return MIMEBuilder.headerBlock(headers + body.headers) + "\r\n" + body.body
        }
        // multipart/mixed: the readable body first, then each attachment.
        let mixed = "=_mf_mix_\(id.prefix(18))"
        headers.append(("Content-Type", "multipart/mixed; boundary=\"\(mixed)\""))
        var out = MIMEBuilder.headerBlock(headers) + "\r\n" + "This is a multi-part message in MIME format.\r\n"
        out += "--\(mixed)\r\n" + MIMEBuilder.headerBlock(body.headers) + "\r\n" + body.body
        for attachment in content.attachments {
            out += "--\(mixed)\r\n" + MIMEBuilder.attachmentPart(attachment)
        }
        out += "--\(mixed)--\r\n"
        return out
    }

    /// The text and/or HTML content as one MIME entity: its Content-* headers and its body.
    static func bodyPart(text: String?, html: String?, boundary: String) -> (headers: [(String, String)], body: String) {
        switch (text, html) {
        case let (text?, html?):
            var out = "This is a multi-part message in MIME format.\r\n"
            out += "--\(boundary)\r\n" + part(type: "text/plain", body: text)
            out += "--\(boundary)\r\n" + part(type: "text/html", body: html)
            out += "--\(boundary)--\r\n"
            return ([("Content-Type", "multipart/alternative; boundary=\"\(boundary)\"")], out)
        case let (text?, nil):
            return ([("Content-Type", "text/plain; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")], QuotedPrintable.encode(text))
        case let (nil, html?):
            return ([("Content-Type", "text/html; charset=utf-8"), ("Content-Transfer-Encoding", "quoted-printable")], QuotedPrintable.encode(html))
        case (nil, nil):
            return ([("Content-Type", "text/plain; charset=utf-8")], "")
        }
    }

    /// One attachment: base64 in lines of 76, its name as an RFC 2231 parameter.
    static func attachmentPart(_ attachment: MessageAttachment) -> String {
        let headers: [(String, String)] = [
            ("Content-Type", "\(attachment.contentType); \(parameter("name", attachment.filename))"),
            ("Content-Disposition", "attachment; \(parameter("filename", attachment.filename))"),
            ("Content-Transfer-Encoding", "base64"),
        ]
        let encoded = attachment.data.base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return headerBlock(headers) + "\r\n" + (encoded.isEmpty ? "" : encoded + "\r\n")
    }

    /// A MIME parameter: quoted when it is short printable ASCII, otherwise RFC 2231
    /// (`name*=utf-8''…`, split into numbered sections so no header line grows past 78).
    static func parameter(_ name: String, _ value: String) -> String {
        let printable = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 32 && $0.value != 127 }
        if printable && value.utf8.count <= 60 {
            let escaped = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\(name)=\"\(escaped)\""
        }
        let attributeChars = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$&+-.^_`|~")
        var encoded: [String] = []
        for byte in value.utf8 {
            let scalar = UnicodeScalar(byte)
            encoded.append(byte < 128 && attributeChars.contains(scalar) ? String(Character(scalar)) : String(format: "%%%02X", byte))
        }
        var sections: [String] = []
        var current = ""
        for piece in encoded {
            if current.count + piece.count > 40 {
                sections.append(current)
                current = ""
            }
            current += piece
        }
        sections.append(current)
        if sections.count == 1 { return "\(name)*=utf-8''\(sections[0])" }
        return sections.enumerated().map { index, section in
            index == 0 ? "\(name)*0*=utf-8''\(section)" : "\(name)*\(index)*=\(section)"
        }.joined(separator: "; ")
    }

    /// The message's metadata as compact JSON for the `X-Mailfleet-Metadata` header, so the
    /// receiving side of a raw-MIME provider (SMTP, SES) can match it; nil when empty, not
    /// ASCII, or too long for one header line.
    static func metadataHeader(_ metadata: [String: String]) -> String? {
        guard !metadata.isEmpty, let data = try? PayloadJSON.encode(metadata) else { return nil }
        let json = String(decoding: data, as: UTF8.self)
        guard json.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 }), json.utf8.count <= 900 else { return nil }
        return json
    }

    static func part(type: String, body: String) -> String {
        "Content-Type: \(type); charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + QuotedPrintable.encode(body)
    }

    /// Header lines, folded so none exceeds 78 characters where a fold point exists.
    static func headerBlock(_ headers: [(String, String)]) -> String {
        headers.map { fold("\($0.0): \($0.1)") }.joined()
    }

    /// Folds a header line at spaces (RFC 5322 §2.2.3) and terminates it with CRLF.
    static func fold(_ line: String) -> String {
        guard line.utf8.count > 78 else { return line + "\r\n" }
        var out = ""
        var current = ""
        for (index, word) in line.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
            if current.isEmpty {
                current = String(word)
            } else if index == 1 {
                // Never fold right after "Name:": parsers would keep the fold's space in the value.
                current += " " + word
            } else if current.utf8.count + 1 + word.utf8.count > 78 {
                out += current + "\r\n"
                current = " " + word
            } else {
                current += " " + word
            }
        }
        return out + current + "\r\n"
    }

    /// `Name <email>` with the name quoted or encoded as needed.
    public static func encodeAddress(_ address: EmailAddress) -> String {
        guard let name = address.name, !name.isEmpty else { return address.email }
        if !name.unicodeScalars.allSatisfy({ $0.isASCII }) {
            return "\(encodedWords(name)) <\(address.email)>"
        }
        let atext = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~ ")
        if name.unicodeScalars.allSatisfy({ atext.contains($0) }) { return "\(name) <\(address.email)>" }
        let escaped = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\" <\(address.email)>"
    }

    /// Header text as is when ASCII, otherwise as RFC 2047 encoded words.
    public static func encodeHeaderText(_ text: String) -> String {
        text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 32 && $0.value != 127 }) ? text : encodedWords(text)
    }

    /// `=?UTF-8?B?...?=` words of at most 75 characters, never splitting a character, joined by
    /// a space (which folding may turn into CRLF SP; decoders drop whitespace between words).
    static func encodedWords(_ text: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        // 75 - len("=?UTF-8?B??=") = 63 base64 characters = 45 bytes (rounded down to a multiple of 3).
        let maxBytes = 45
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > maxBytes, !chunk.isEmpty {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: " ")
    }

    /// An RFC 5322 date in UTC, e.g. `Sun, 22 Nov 2026 06:51:02 +0000`.
    public static func rfc5322Date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
