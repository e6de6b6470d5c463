/// An IPv4 or IPv6 address, parsed from any of its textual forms or from the bytes a socket
/// address carries.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address family.
    public enum Family: Sendable, Hashable {
        /// 32 bits.
        case v4
        /// 128 bits.
        case v6
    }

    /// The address family.
    public let family: Family
    /// The upper 64 bits of an IPv6 address; 0 for IPv4.
    let high: UInt64
    /// The lower 64 bits of an IPv6 address, or the IPv4 address in the lower 32 bits.
    let low: UInt64

    /// An IPv4 address from its 32-bit value (127.0.0.1 is 0x7F00_0001).
    public init(v4 value: UInt32) {
        family = .v4
        high = 0
        low = UInt64(value)
    }

    /// An IPv6 address from its upper and lower 64 bits.
    public init(v6 high: UInt64, _ low: UInt64) {
        family = .v6
        self.high = high
        self.low = low
    }

    /// An address from network-order bytes: 4 for IPv4, 16 for IPv6; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        switch bytes.count {
        case 4:
            self.init(v4: bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            self.init(
                v6: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        default:
            return nil
        }
    }

    /// Parses a dotted quad ("192.0.2.1", no leading zeros, which some parsers read as octal)
    /// or an IPv6 address in any RFC 4291 form ("::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"),
    /// without brackets and without a zone ("%eth0"). Nil when the text is neither.
    public init?(_ text: String) {
        if text.contains(":") {
            guard let (high, low) = Self.parseV6(Substring(text)) else { return nil }
            self.init(v6: high, low)
        } else {
            guard let value = Self.parseDottedQuad(Substring(text)) else { return nil }
            self.init(v4: value)
        }
    }

    /// The IPv4 value, or nil for an IPv6 address.
    public var v4Value: UInt32? { family == .v4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// The address in network byte order (4 or 16 bytes).
    public var bytes: [UInt8] {
        switch family {
        case .v4: return (0..<4).map { UInt8(truncatingIfNeeded: low >> (24 - 8 * $0)) }
        case .v6: return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
        }
    }

    /// The IPv4 address an IPv6 address stands for, where the IPv6 form only carries one:
    /// IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, but not :: or ::1), NAT64's
    /// well-known prefix (64:ff9b::/96) and 6to4 (2002::/16, the 32 bits after the prefix).
    /// A connection to one of these reaches the IPv4 host, so that is the address to judge.
    public var embeddedIPv4: IPAddress? {
        guard family == .v6 else { return nil }
        let lower32 = UInt32(truncatingIfNeeded: low)
        if high == 0 && low >> 32 == 0xFFFF { return IPAddress(v4: lower32) }
        if high == 0 && low >> 32 == 0 && low > 1 { return IPAddress(v4: lower32) }
        if high == 0x0064_FF9B_0000_0000 && low >> 32 == 0 { return IPAddress(v4: lower32) }
        if high >> 48 == 0x2002 { return IPAddress(v4: UInt32(truncatingIfNeeded: high >> 16)) }
        return nil
    }

    /// The canonical text: a dotted quad, or RFC 5952 IPv6 (lowercase, the longest run of two
    /// or more zero groups as "::", IPv4-mapped addresses as ::ffff:a.b.c.d).
    public var description: String {
        switch family {
        case .v4:
            return Self.dottedQuad(UInt32(truncatingIfNeeded: low))
        case .v6:
            if high == 0 && low >> 32 == 0xFFFF { return "::ffff:" + Self.dottedQuad(UInt32(truncatingIfNeeded: low)) }
            let groups = (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * $0)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * $0)) }
            var best = (start: -1, length: 0)
            var index = 0
            while index < 8 {
                guard groups[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < 8 && groups[end] == 0 { end += 1 }
                if end - index > best.length { best = (index, end - index) }
                index = end
            }
            let hex = groups.map { String($0, radix: 16) }
            guard best.length >= 2 else { return hex.joined(separator: ":") }
            let head = hex[..<best.start].joined(separator: ":")
            let tail = hex[(best.start + best.length)...].joined(separator: ":")
            return head + "::" + tail
        }
    }

    // MARK: Parsing

    private static func dottedQuad(_ value: UInt32) -> String {
        (0..<4).map { String(UInt8(truncatingIfNeeded: value >> (24 - 8 * $0))) }.joined(separator: ".")
    }

    /// Four decimal octets, each 0...255 and written without leading zeros.
    static func parseDottedQuad(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                part == "0" || part.first != "0", let octet = UInt8(part)
            else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }

    /// RFC 4291 section 2.2: eight groups of one to four hex digits, at most one "::" standing
    /// for one or more zero groups, and optionally a dotted quad as the last 32 bits.
    static func parseV6(_ text: Substring) -> (UInt64, UInt64)? {
        var groups: [UInt16] = []
        var gapAt: Int?
        var rest = text
        if rest.hasPrefix("::") {
            gapAt = 0
            rest = rest.dropFirst(2)
        } else if rest.hasPrefix(":") {
            return nil
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: ":") ?? rest.endIndex
            let piece = rest[..<end]
            if piece.contains(".") {
                // A dotted quad may only end the address.
                guard end == rest.endIndex, let value = parseDottedQuad(piece) else { return nil }
                groups.append(UInt16(truncatingIfNeeded: value >> 16))
                groups.append(UInt16(truncatingIfNeeded: value))
                rest = rest[end...]
                break
            }
            guard (1...4).contains(piece.count), piece.allSatisfy({ $0.isASCII && $0.isHexDigit }), let group = UInt16(piece, radix: 16) else {
                return nil
            }
            groups.append(group)
            rest = rest[end...]
            if rest.hasPrefix("::") {
                guard gapAt == nil else { return nil }
                gapAt = groups.count
                rest = rest.dropFirst(2)
            } else if rest.hasPrefix(":") {
                rest = rest.dropFirst()
                // "1:" at the very end is not an address.
                if rest.isEmpty { return nil }
            }
        }
        if let gapAt {
            // "::" stands for at least one group.
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gapAt)
        }
        guard groups.count == 8 else { return nil }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return (high, low)
    }

    /// The IPv4 address a URL host written as numbers stands for, read the way libcurl, browsers
    /// (WHATWG URL) and `inet_aton` read it: one to four parts separated by dots, each decimal,
    /// octal (leading 0) or hexadecimal (0x), the last part filling the remaining bytes. So
    /// "2130706433", "0x7f.0.0.1", "017700000001" and "127.1" are all 127.0.0.1. Nil when the
    /// text is not such a number or a part is out of range.
    public static func numericHost(_ text: String) -> IPAddress? {
        var parts = text.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count > 1, parts.last?.isEmpty == true { parts.removeLast() }  // "127.0.0.1." is absolute
        guard (1...4).contains(parts.count) else { return nil }
        var numbers: [UInt64] = []
        for part in parts {
            guard let number = numericPart(part) else { return nil }
            numbers.append(number)
        }
        for number in numbers.dropLast() where number > 255 { return nil }
        let lastWidth = 8 * (5 - numbers.count)
        guard let last = numbers.last, lastWidth == 32 ? last <= UInt64(UInt32.max) : last < (1 << lastWidth) else { return nil }
        var value = last
        for (index, number) in numbers.dropLast().enumerated() { value |= number << (24 - 8 * index) }
        return IPAddress(v4: UInt32(value))
    }

    /// Whether a URL host is meant as a number (its last label is digits or 0x-hex), in which
    /// case libcurl and browsers read it as an IPv4 address, never as a name.
    public static func looksNumeric(_ host: String) -> Bool {
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard let last = labels.last, !last.isEmpty else { return false }
        if last.allSatisfy({ $0.isASCII && $0.isNumber }) { return true }
        let lower = last.lowercased()
        return lower.hasPrefix("0x") && lower.dropFirst(2).allSatisfy({ $0.isASCII && $0.isHexDigit })
    }

    private static func numericPart(_ part: Substring) -> UInt64? {
        let lower = part.lowercased()
        let digits: Substring
        let radix: Int
        if lower.hasPrefix("0x") {
            digits = Substring(lower.dropFirst(2))
            radix = 16
            // "0x" alone is zero for WHATWG and inet_aton alike.
            if digits.isEmpty { return 0 }
        } else if lower.count > 1 && lower.hasPrefix("0") {
            digits = Substring(lower.dropFirst())
            radix = 8
        } else {
            digits = Substring(lower)
            radix = 10
        }
        guard !digits.isEmpty, digits.count <= 32, digits.allSatisfy({ $0.isASCII && $0.isHexDigit }) else { return nil }
        return UInt64(digits, radix: radix)
    }
}
