import Foundation

/// UUID text written directly: `uuidString` formats through C's printf, and the hot path
/// prints several ids per message (queue entries, statement parameters, provider bodies).
public enum UUIDText {
    /// The canonical lowercase form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
    public static func lowercase(_ id: UUID) -> String {
        withUnsafeBytes(of: id.uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                let digits: StaticString = "0123456789abcdef"
                var o = 0
                for (i, byte) in raw.enumerated() {
                    if i == 4 || i == 6 || i == 8 || i == 10 {
                        out[o] = UInt8(ascii: "-")
                        o += 1
                    }
                    out[o] = digits.utf8Start[Int(byte >> 4)]
                    out[o + 1] = digits.utf8Start[Int(byte & 0x0F)]
                    o += 2
                }
                return o
            }
        }
    }
}
