/// The formats contacts are imported from and exported to.
public enum ContactFileFormat: String, Sendable, Codable, CaseIterable {
    /// Comma-separated values with a header row (RFC 4180).
    case csv
    /// One JSON object per line.
    case ndjson

    /// The HTTP media type.
    public var mediaType: String {
        switch self {
        case .csv: return "text/csv"
        case .ndjson: return "application/x-ndjson"
        }
    }

    /// The format of a `Content-Type` or `Accept` value (parameters ignored), or nil.
    public init?(mediaType: String) {
        let bare = mediaType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        switch bare {
        case "text/csv": self = .csv
        case "application/x-ndjson", "application/ndjson", "application/jsonl": self = .ndjson
        default: return nil
        }
    }
}
