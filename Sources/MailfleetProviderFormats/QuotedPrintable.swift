import Foundation

/// Quoted-printable (RFC 2045 §6.7) with CRLF line ends and lines of at most 76 characters.
public enum QuotedPrintable {
    /// Encodes text; any of CRLF, LF or CR in the input becomes a hard CRLF line break.
    public static func encode(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var out = ""
        out.reserveCapacity(normalized.utf8.count + normalized.utf8.count / 8)
        let hex = Array("0123456789ABCDEF")
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            let bytes = Array(line.utf8)
            var current = ""
            var length = 0
            for (i, byte) in bytes.enumerated() {
                let isLast = i == bytes.count - 1
                var token: String
                if (byte >= 33 && byte <= 126 && byte != 61) || ((byte == 32 || byte == 9) && !isLast) {
                    token = String(UnicodeScalar(byte))
                } else {
                    token = "=" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 15)])
                }
                // Leave room for the soft break "=" so no line exceeds 76.
                if length + token.count > 75 {
                    current += "=\r\n"
                    length = 0
                }
                current += token
                length += token.count
            }
            out += current + "\r\n"
        }
        return out
    }
}
