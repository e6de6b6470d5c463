/// Searches and replacements of ASCII needles in UTF-8 text, byte by byte, with ASCII letters
/// compared case-insensitively when asked. Foundation's `range(of:options:)` and
/// `replacingOccurrences(of:with:)` bridge to NSString on Linux (UTF-16 copies and
/// CFStringFind): in a worker's render of a 1,000-message round they took a third of its CPU.
/// A needle's bytes are ASCII, so a match never starts or ends inside a multi-byte character
/// and its offsets are valid `String.Index` boundaries.
public enum ASCIISearch {
    /// The byte offset of the first match of `needle` in `bytes` at or after `start`.
    public static func firstOffset(of needle: String, in bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0, caseInsensitive: Bool = false) -> Int? {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        var offset = max(0, start)
        while offset <= bytes.count - pattern.count {
            if matches(pattern, bytes, at: offset, caseInsensitive) { return offset }
            offset += 1
        }
        return nil
    }

    /// The byte offset of the last match of `needle` in `bytes`.
    public static func lastOffset(of needle: String, in bytes: UnsafeBufferPointer<UInt8>, caseInsensitive: Bool = false) -> Int? {
        let pattern = Array(needle.utf8)
        guard !pattern.isEmpty, bytes.count >= pattern.count else { return nil }
        var offset = bytes.count - pattern.count
        while offset >= 0 {
            if matches(pattern, bytes, at: offset, caseInsensitive) { return offset }
            offset -= 1
        }
        return nil
    }

    /// Whether `text` holds `needle` (case-sensitive).
    public static func contains(_ needle: String, in text: String) -> Bool {
        var text = text
        return text.withUTF8 { firstOffset(of: needle, in: $0) != nil }
    }

    /// Whether `text` starts with `prefix`, letters compared case-insensitively.
    public static func hasPrefixIgnoringCase(_ prefix: String, _ text: String) -> Bool {
        let pattern = Array(prefix.utf8)
        var copy = text
        return copy.withUTF8 { $0.count >= pattern.count && matches(pattern, $0, at: 0, true) }
    }

    /// The index of the last match of `needle` in `text`, letters compared case-insensitively.
    public static func lastIndexIgnoringCase(of needle: String, in text: String) -> String.Index? {
        var copy = text
        guard let offset = copy.withUTF8({ lastOffset(of: needle, in: $0, caseInsensitive: true) }) else { return nil }
        return text.utf8.index(text.utf8.startIndex, offsetBy: offset)
    }

    /// `text` with every `needle` replaced by `replacement`; `text` itself when there is none.
    public static func replacingAll(_ needle: String, with replacement: String, in text: String) -> String {
        var copy = text
        return copy.withUTF8 { bytes in
            guard var match = firstOffset(of: needle, in: bytes) else { return text }
            let length = needle.utf8.count
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            var cursor = 0
            while true {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[cursor..<match]))
                out.append(contentsOf: replacement.utf8)
                cursor = match + length
                guard let next = firstOffset(of: needle, in: bytes, from: cursor) else { break }
                match = next
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[cursor...]))
            return String(decoding: out, as: UTF8.self)
        }
    }

    private static func matches(_ pattern: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ caseInsensitive: Bool) -> Bool {
        for index in 0..<pattern.count {
            let byte = bytes[offset + index]
            let wanted = pattern[index]
            if byte == wanted { continue }
            if caseInsensitive, lowered(byte) == lowered(wanted) { continue }
            return false
        }
        return true
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }
}
