import Crypto
import Foundation
import MailfleetCore

extension WebhookEvent {
    /// Our message id from the value we send with every call, when it is a UUID.
    static func messageID(_ text: String?) -> UUID? {
        text.flatMap { UUID(uuidString: $0) }
    }

    /// The text without NUL characters, which neither Postgres text nor jsonb can hold: one
    /// such character in a provider's field would fail the whole write.
    static func storable(_ text: String) -> String {
        guard text.utf8.contains(0) else { return text }
        return String(String.UnicodeScalarView(text.unicodeScalars.filter { $0.value != 0 }))
    }

    /// An id for a report the provider gave none: a digest of what makes it this report, so a
    /// second delivery of it gets the same id.
    static func derivedID(_ parts: String?...) -> String {
        let joined = parts.map { $0 ?? "" }.joined(separator: "\u{1f}")
        return "sha256:" + Hex.encode(SHA256.hash(data: Data(joined.utf8)).prefix(16))
    }

    /// An RFC 3339 time with any number of fractional digits (Postmark sends seven; the
    /// formatter reads at most three), or nil.
    static func date(_ text: String?) -> Date? {
        guard var text else { return nil }
        if let dot = text.firstIndex(of: ".") {
            let digitsEnd = text[text.index(after: dot)...].firstIndex { !$0.isNumber } ?? text.endIndex
            let digits = text[text.index(after: dot)..<digitsEnd]
            if digits.count > 3 { text = String(text[..<dot]) + "." + digits.prefix(3) + text[digitsEnd...] }
        }
        return ISO8601.parse(text)
    }

    /// Decodes a provider body, or refuses it as malformed.
    static func decode<T: Decodable>(_ type: T.Type, _ body: some Collection<UInt8>, _ what: String) throws(WebhookRejection) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw WebhookRejection(.malformed, "not \(what): \(error)")
        }
    }
}
