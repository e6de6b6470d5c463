/// The lane a message travels in: `transactional` is never stuck behind `bulk`.
public enum Priority: String, Sendable, Codable, CaseIterable {
    /// Password resets, receipts: one recipient, someone waiting.
    case transactional
    /// Newsletters and campaigns: throughput over latency.
    case bulk

    /// One-letter code used in queue entries.
    public var code: Character { self == .transactional ? "t" : "b" }

    /// The lane for a one-letter code.
    public init?(code: Character) {
        switch code {
        case "t": self = .transactional
        case "b": self = .bulk
        default: return nil
        }
    }
}
