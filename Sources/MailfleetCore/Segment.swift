import Foundation

/// A tenant's stored segment: a named filter over its contacts (docs/CAMPAIGNS.md, "Segments").
public struct Segment: Sendable, Equatable {
    /// The segment's id.
    public var id: UUID
    /// Its tenant.
    public var tenantID: UUID
    /// A name unique within the tenant.
    public var name: String
    /// Who is in it.
    public var filter: SegmentFilter
    /// When it was created.
    public var createdAt: Date
    /// When it was last changed.
    public var updatedAt: Date

    /// The longest name, in characters.
    public static let maxNameLength = 200

    /// A segment.
    public init(id: UUID, tenantID: UUID, name: String, filter: SegmentFilter, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.filter = filter
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// A name's problem (empty, too long, or with control characters), nil when it is fine.
    public static func problem(withName name: String) -> String? {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "name must not be empty" }
        if name.unicodeScalars.count > maxNameLength { return "name is limited to \(maxNameLength) characters" }
        if name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) { return "name must not contain control characters" }
        return nil
    }
}
