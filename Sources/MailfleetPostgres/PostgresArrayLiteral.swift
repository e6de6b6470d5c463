/// Text helpers for array literals and bytea: the one place that knows the array text format.
enum PostgresArrayLiteral {
    /// Double-quotes an element, backslash-escaping `"` and `\` (quoting always is valid and avoids
    /// having to spot NULL, empty strings, commas, braces and whitespace).
    static func appendQuoted(_ text: String, to out: inout String) {
        // Most elements (ids, JSON documents without backslashes) need no escaping: append them
        // whole. Otherwise escape at the byte level; `"` and `\` are ASCII, so no multi-byte
        // character is ever split.
        var text = text
        let needsEscaping = text.withUTF8 { bytes in bytes.contains { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") } }
        out.append("\"")
        if needsEscaping {
            var escaped: [UInt8] = []
            text.withUTF8 { bytes in
                escaped.reserveCapacity(bytes.count + bytes.count / 8)
                for byte in bytes {
                    if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { escaped.append(UInt8(ascii: "\\")) }
                    escaped.append(byte)
                }
            }
            out.append(String(decoding: escaped, as: UTF8.self))
        } else {
            out.append(text)
        }
        out.append("\"")
    }

    /// `\x` followed by two lowercase hex digits per byte.
    static func byteaHex(_ bytes: [UInt8]) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var utf8: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        utf8.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            utf8.append(digits[Int(byte >> 4)])
            utf8.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// Decodes bytea hex output (`\x...`); nil when the text is not in that format.
    static func decodeByteaHex(_ text: String) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count >= 2, utf8[0] == UInt8(ascii: "\\"), utf8[1] == UInt8(ascii: "x"),
              utf8.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((utf8.count - 2) / 2)
        var i = 2
        while i < utf8.count {
            guard let high = nibble(utf8[i]), let low = nibble(utf8[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }

    /// The elements of array output text such as `{send,read}` or `{"a b",NULL}`, nil for
    /// NULL; nil when the text is not an array.
    static func parse(_ text: String) -> [String?]? {
        guard text.hasPrefix("{"), text.hasSuffix("}") else { return nil }
        let inner = Array(text.dropFirst().dropLast())
        if inner.isEmpty { return [] }
        var out: [String?] = []
        var current = ""
        var quoted = false, wasQuoted = false, escape = false
        for ch in inner {
            if escape { current.append(ch); escape = false; continue }
            if quoted {
                if ch == "\\" { escape = true } else if ch == "\"" { quoted = false } else { current.append(ch) }
                continue
            }
            switch ch {
            case "\"": quoted = true; wasQuoted = true
            case ",":
                out.append(!wasQuoted && current == "NULL" ? nil : current)
                current = ""; wasQuoted = false
            default: current.append(ch)
            }
        }
        out.append(!wasQuoted && current == "NULL" ? nil : current)
        return out
    }
}
