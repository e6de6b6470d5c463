import Foundation

/// A contact as a segment filter sees it: attributes and list memberships.
public struct SegmentContact: Sendable, Hashable {
    /// The contact's id.
    public var id: UUID
    /// Its attributes (a JSON object's members).
    public var attributes: [String: JSONValue]
    /// Its status on each list it belongs to.
    public var memberships: [UUID: SegmentFilter.MemberStatus]

    /// A contact.
    public init(id: UUID, attributes: [String: JSONValue] = [:], memberships: [UUID: SegmentFilter.MemberStatus] = [:]) {
        self.id = id
        self.attributes = attributes
        self.memberships = memberships
    }
}
