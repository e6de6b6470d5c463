import Foundation

extension UUID {
    /// A version 7 UUID (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, then 74 random
    /// bits. Ids made later sort later, so a table keyed by them grows at the right edge of
    /// its index instead of touching a random page per insert; the random bits come from the
    /// system generator (no file is opened, unlike `UUID()` on Linux).
    public static func timeOrdered(at date: Date = Date()) -> UUID {
        var rng = SystemRandomNumberGenerator()
        let random = rng.next() as UInt64
        let more = rng.next() as UInt64
        var b = timePrefix(date)
        b[6] = 0x70 | UInt8(truncatingIfNeeded: random & 0x0F)
        b[7] = UInt8(truncatingIfNeeded: random >> 8)
        b[8] = 0x80 | UInt8(truncatingIfNeeded: (random >> 16) & 0x3F)
        for i in 9..<16 { b[i] = UInt8(truncatingIfNeeded: more >> (8 * (i - 9))) }
        return UUID(bytes: b)
    }

    /// Sixteen bytes whose first six are `date`'s Unix time in milliseconds (big-endian), the
    /// start of a version 7 UUID; the rest zero.
    static func timePrefix(_ date: Date) -> [UInt8] {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var b = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { b[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        return b
    }

    /// The UUID of sixteen bytes.
    init(bytes b: [UInt8]) {
        self.init(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    /// When a version 7 UUID was made (its 48-bit millisecond time), nil for other versions,
    /// whose bits carry no time.
    public var timeOrderedDate: Date? {
        let b = uuid
        guard b.6 >> 4 == 7 else { return nil }
        let millis = [b.0, b.1, b.2, b.3, b.4, b.5].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Date(timeIntervalSince1970: Double(millis) / 1000)
    }

    /// The canonical lowercase form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, without the
    /// formatting calls `uuidString` makes (see `UUIDText`).
    public var lowercasedString: String { UUIDText.lowercase(self) }
}
