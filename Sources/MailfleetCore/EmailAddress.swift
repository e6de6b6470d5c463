import Foundation
/// An email address with an optional display name, as in `Alice <alice@example.com>`.
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The addr-spec, `local@domain`.
    public var email: String
    /// The display name, if any.
    public var name: String?

    /// Creates an address after checking its syntax. An internationalised domain is stored in
    /// its ASCII (`xn--`) form, which every provider and SMTP server accepts; a UTF-8 local part
    /// is kept as given (it needs SMTPUTF8 downstream).
    public init(email: String, name: String? = nil) throws(AddressError) {
        let trimmed = email.trimmingSpaces()
        if let name, name.containsLineBreakOrNUL { throw AddressError(reason: "display name contains a line break or NUL") }
        if EmailAddress.isPlainASCIIAddress(trimmed) {
            // The common case, checked byte by byte; anything else takes the full path below,
            // which also names what is wrong.
            self.email = trimmed
        } else {
            try EmailAddress.validate(addrSpec: trimmed)
            self.email = try EmailAddress.asciiDomainForm(trimmed)
        }
        self.name = (name?.isEmpty ?? true) ? nil : name
    }

    /// True for an all-ASCII, unquoted addr-spec that `validate(addrSpec:)` accepts and whose
    /// domain is already in ASCII form. False means "take the full path", not "invalid".
    static func isPlainASCIIAddress(_ address: String) -> Bool {
        var copy = address
        return copy.withUTF8 { bytes -> Bool in
            guard let at = bytes.lastIndex(of: UInt8(ascii: "@")), at > 0, at <= 64, at < bytes.count - 1, bytes.count - at - 1 <= 253 else {
                return false
            }
            let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
            // Local part: atext and dots, no leading, trailing or double dot (so never quoted).
            var previous: UInt8 = dot
            for i in 0..<at {
                let byte = bytes[i]
                guard byte < 128, atextTable[Int(byte)], !(byte == dot && previous == dot) else { return false }
                previous = byte
            }
            guard previous != dot else { return false }
            // Domain: at least two labels of 1-63 letters, digits and inner hyphens.
            var labels = 0, length = 0
            var first: UInt8 = 0, last: UInt8 = 0
            for i in (at + 1)...bytes.count {
                let byte = i < bytes.count ? bytes[i] : dot
                if byte == dot {
                    guard length > 0, length <= 63, first != hyphen, last != hyphen else { return false }
                    labels += 1
                    length = 0
                    continue
                }
                let isAlnum = (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
                guard isAlnum || byte == hyphen else { return false }
                if length == 0 { first = byte }
                last = byte
                length += 1
            }
            return labels >= 2
        }
    }

    /// Parses `alice@example.com` or `Alice <alice@example.com>` (display name optionally quoted).
    public init(parsing text: String) throws(AddressError) {
        let trimmed = text.trimmingSpaces()
        if trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") {
            var name = String(trimmed[..<open]).trimmingSpaces()
            if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
                name = String(name.dropFirst().dropLast())
            }
            let spec = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
            try self.init(email: spec, name: name.isEmpty ? nil : name)
        } else {
            try self.init(email: trimmed, name: nil)
        }
    }

    /// The domain part, lowercased.
    public var domain: String {
        guard let at = email.lastIndex(of: "@") else { return "" }
        return email[email.index(after: at)...].lowercased()
    }

    /// `Name <email>` or just `email`.
    public var description: String {
        guard let name else { return email }
        return "\(name) <\(email)>"
    }

    /// Checks an addr-spec: a dot-atom (or quoted) local part of at most 64 octets, an `@`, and a
    /// domain of dot-separated labels (letters, digits, hyphens, or non-ASCII for IDN) of at most
    /// 253 octets.
    static func validate(addrSpec: String) throws(AddressError) {
        guard !addrSpec.isEmpty else { throw AddressError(reason: "address is empty") }
        if addrSpec.containsLineBreakOrNUL { throw AddressError(reason: "address contains a line break or NUL") }
        guard let at = addrSpec.lastIndex(of: "@") else { throw AddressError(reason: "address has no @") }
        let local = addrSpec[..<at]
        let domain = addrSpec[addrSpec.index(after: at)...]
        guard !local.isEmpty else { throw AddressError(reason: "address has an empty local part") }
        guard local.utf8.count <= 64 else { throw AddressError(reason: "local part is longer than 64 octets") }
        guard !domain.isEmpty else { throw AddressError(reason: "address has an empty domain") }
        guard domain.utf8.count <= 253 else { throw AddressError(reason: "domain is longer than 253 octets") }
        let isQuoted = local.count >= 2 && local.hasPrefix("\"") && local.hasSuffix("\"")
        if !isQuoted {
            for ch in local where !(ch.isASCII ? EmailAddress.isAtext(ch) : true) {
                throw AddressError(reason: "local part contains '\(ch)'")
            }
            if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") {
                throw AddressError(reason: "local part has a misplaced dot")
            }
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw AddressError(reason: "domain needs at least two labels") }
        for label in labels {
            guard !label.isEmpty else { throw AddressError(reason: "domain has an empty label") }
            guard label.utf8.count <= 63 || !label.allSatisfy(\.isASCII) else {
                throw AddressError(reason: "domain label is longer than 63 octets")
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { throw AddressError(reason: "domain label starts or ends with a hyphen") }
            for ch in label where !(ch.isLetter || ch.isNumber || ch == "-") {
                throw AddressError(reason: "domain contains '\(ch)'")
            }
        }
    }

    /// RFC 5322 atext plus the dot, as a 128-entry table (cheaper than a Set per call).
    private static let atextTable: [Bool] = {
        var table = [Bool](repeating: false, count: 128)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.".utf8 { table[Int(byte)] = true }
        return table
    }()

    static func isAtext(_ ch: Character) -> Bool {
        guard let ascii = ch.asciiValue else { return false }
        return atextTable[Int(ascii)]
    }

    /// The address with its domain in ASCII form, checked again against the length limits
    /// (encoding can lengthen a label past 63 octets).
    static func asciiDomainForm(_ addrSpec: String) throws(AddressError) -> String {
        guard let at = addrSpec.lastIndex(of: "@") else { throw AddressError(reason: "address has no @") }
        let domain = String(addrSpec[addrSpec.index(after: at)...])
        if domain.allSatisfy(\.isASCII) { return addrSpec }
        guard let ascii = Punycode.asciiDomain(domain) else { throw AddressError(reason: "domain cannot be written in ASCII form") }
        guard ascii.utf8.count <= 253 else { throw AddressError(reason: "domain is longer than 253 octets in ASCII form") }
        for label in ascii.split(separator: ".") where label.utf8.count > 63 {
            throw AddressError(reason: "domain label is longer than 63 octets in ASCII form")
        }
        return String(addrSpec[...at]) + ascii
    }

    // Accepts either "Name <a@b.c>" strings or {"email": ..., "name": ...} objects.
    public init(from decoder: any Decoder) throws {
        if let single = try? decoder.singleValueContainer(), let text = try? single.decode(String.self) {
            do { try self.init(parsing: text) } catch {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.reason))
            }
            return
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        // Unknown fields are refused here too, so a typo such as "nmae" does not pass silently.
        if let unknown = try decoder.container(keyedBy: AnyCodingKey.self).allKeys.first(where: { CodingKeys(stringValue: $0.stringValue) == nil }) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [unknown], debugDescription: "unknown field \(unknown.stringValue)"))
        }
        let email = try container.decode(String.self, forKey: .email)
        let name = try container.decodeIfPresent(String.self, forKey: .name)
        do { try self.init(email: email, name: name) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath + [CodingKeys.email], debugDescription: error.reason))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(email, forKey: .email)
        try container.encodeIfPresent(name, forKey: .name)
    }

    private enum CodingKeys: String, CodingKey { case email, name }
}

/// A coding key for any field name, to list the keys a JSON object actually holds.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Why an address was refused.
public struct AddressError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A human-readable reason.
    public let reason: String
    public var description: String { reason }
}

extension String {
    /// True when the string holds CR, LF or NUL, which would let a value break out of a header.
    /// True when the string holds a NUL character (scanned with `memchr`).
    public var containsNUL: Bool {
        if let found = utf8.withContiguousStorageIfAvailable({ bytes in
            bytes.isEmpty ? false : memchr(bytes.baseAddress!, 0, bytes.count) != nil
        }) {
            return found
        }
        return utf8.contains(0)
    }

    public var containsLineBreakOrNUL: Bool {
        if let found = utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            // A plain loop over the buffer: bodies run to kilobytes and are all checked.
            for byte in bytes where byte <= 13 && (byte == 13 || byte == 10 || byte == 0) { return true }
            return false
        }) {
            return found
        }
        return utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 }
    }

    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }
}
