import Foundation

/// One address of a tenant's, with its attributes (template variables, segment fields) and
/// time zone. Addresses are unique per tenant and stored lowercased, like suppressions.
public struct Contact: Sendable, Equatable {
    /// The contact's id.
    public var id: UUID
    /// The owning tenant.
    public var tenantID: UUID
    /// The address, lowercased (domain in ASCII form).
    public var email: String
    /// Attributes, a JSON object.
    public var attributes: [String: JSONValue]
    /// An IANA time zone, e.g. `Europe/Berlin`.
    public var timeZone: String?
    /// When it was created.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Creates a contact value.
    public init(id: UUID, tenantID: UUID, email: String, attributes: [String: JSONValue], timeZone: String?, createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.email = email
        self.attributes = attributes
        self.timeZone = timeZone
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// A contact's place on one list.
public struct ListMember: Sendable, Equatable {
    /// The list.
    public var listID: UUID
    /// The contact.
    public var contact: Contact
    /// Its status on the list.
    public var status: MembershipStatus
    /// When it last became subscribed.
    public var subscribedAt: Date?
    /// When it last left.
    public var unsubscribedAt: Date?
    /// When it was added.
    public var createdAt: Date

    /// Creates a member value.
    public init(listID: UUID, contact: Contact, status: MembershipStatus, subscribedAt: Date?, unsubscribedAt: Date?, createdAt: Date) {
        self.listID = listID
        self.contact = contact
        self.status = status
        self.subscribedAt = subscribedAt
        self.unsubscribedAt = unsubscribedAt
        self.createdAt = createdAt
    }
}
