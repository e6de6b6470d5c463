import Foundation

/// Where a page of a tenant's events (newest first) ended: the last event's time in
/// microseconds and its id, which breaks ties. Its text, `<microseconds>_<id>`, is the `next` of
/// one page and the `after` of the following one.
public struct EventCursor: Sendable, Equatable {
    /// The last event's `occurred_at`, in microseconds since 1970.
    public var occurredAtMicroseconds: Int64
    /// The last event's id.
    public var id: Int64

    /// Creates a cursor.
    public init(occurredAtMicroseconds: Int64, id: Int64) {
        self.occurredAtMicroseconds = occurredAtMicroseconds
        self.id = id
    }

    /// Reads a cursor's text: 1 to 18 digits, `_`, 1 to 18 digits; nil for anything else.
    public init?(text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ (1...18).contains($0.count) && $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let micros = Int64(parts[0]), let id = Int64(parts[1])
        else { return nil }
        self.init(occurredAtMicroseconds: micros, id: id)
    }

    /// The cursor's text.
    public var text: String { "\(occurredAtMicroseconds)_\(id)" }
}
