/// The rule for a tenant-chosen `batch_id`: 1 to 64 characters of letters, digits and `._:-`,
/// so it is safe in a URL path (`POST /v1/batches/{batch_id}/cancel`), a log line and a CLI
/// argument without escaping.
public enum BatchID {
    /// The longest batch id, in characters.
    public static let maxLength = 64
    /// The OpenAPI pattern saying the same as `isValid`.
    public static let pattern = "^[A-Za-z0-9._:-]{1,64}$"
    /// What a caller is told when theirs breaks the rule.
    public static let rule = "batch_id must be 1 to 64 characters of letters, digits and . _ : -"

    /// True when `text` is a valid batch id.
    public static func isValid(_ text: String) -> Bool {
        let bytes = text.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
    }
}
