import Foundation

/// A tenant's list of contacts (docs/CAMPAIGNS.md). With `doubleOptIn`, a member added to it is
/// `pending` until they follow the confirmation link.
public struct ContactList: Sendable, Equatable {
    /// The list's id.
    public var id: UUID
    /// The owning tenant.
    public var tenantID: UUID
    /// Its name, unique per tenant.
    public var name: String
    /// Whether new members must confirm before they are subscribed.
    public var doubleOptIn: Bool
    /// Members by status (filled where the listing asks for them).
    public var counts: MemberCounts
    /// When it was created.
    public var createdAt: Date
    /// When it last changed.
    public var updatedAt: Date

    /// Creates a list value.
    public init(id: UUID, tenantID: UUID, name: String, doubleOptIn: Bool, counts: MemberCounts = MemberCounts(), createdAt: Date, updatedAt: Date) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.doubleOptIn = doubleOptIn
        self.counts = counts
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The longest name a list may have, in characters.
    public static let maxNameLength = 200

    /// `name` trimmed, or what is wrong with it (empty, too long, control characters).
    public static func validName(_ name: String) throws(FieldError) -> String {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw FieldError(code: "invalid_value", field: "name", message: "name must not be empty") }
        guard trimmed.unicodeScalars.count <= maxNameLength else {
            throw FieldError(code: "invalid_value", field: "name", message: "name is at most \(maxNameLength) characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw FieldError(code: "invalid_value", field: "name", message: "name must not contain control characters")
        }
        return trimmed
    }
}

/// How many members of a list are in each status.
public struct MemberCounts: Sendable, Equatable, Codable {
    /// Awaiting confirmation.
    public var pending = 0
    /// Receiving the list's mail.
    public var subscribed = 0
    /// Left the list (or suppressed).
    public var unsubscribed = 0

    /// Creates counts.
    public init(pending: Int = 0, subscribed: Int = 0, unsubscribed: Int = 0) {
        self.pending = pending
        self.subscribed = subscribed
        self.unsubscribed = unsubscribed
    }
}
