import Foundation

/// Where a page of a tenant's messages (newest first) ended: the last message's creation time
/// in microseconds and its id, which break ties. Its text, `<microseconds>_<uuid>`, is the
/// `next` of one page and the `after` of the following one.
public struct MessageCursor: Sendable, Equatable {
    /// The last message's `created_at`, in microseconds since 1970 (exact, as Postgres holds it).
    public var createdAtMicroseconds: Int64
    /// The last message's id.
    public var id: UUID

    /// Creates a cursor.
    public init(createdAtMicroseconds: Int64, id: UUID) {
        self.createdAtMicroseconds = createdAtMicroseconds
        self.id = id
    }

    /// Reads a cursor's text: 1 to 18 digits, `_`, a lowercase UUID; nil for anything else.
    public init?(text: String) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...18).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && $0.isNumber }),
              let micros = Int64(parts[0]), parts[1].count == 36, parts[1] == parts[1].lowercased(),
              let id = UUID(uuidString: String(parts[1])) else { return nil }
        self.init(createdAtMicroseconds: micros, id: id)
    }

    /// The cursor's text.
    public var text: String { "\(createdAtMicroseconds)_\(id.lowercasedString)" }
}
