import Foundation

/// One import of a file into a list, with its counts as they grow (docs/CAMPAIGNS.md).
/// `read` = `imported` + `updated` + `rejected` + `duplicates`; `suppressed` counts the
/// imported or updated rows whose address the tenant suppresses (stored as `unsubscribed`).
public struct ContactImport: Sendable, Equatable {
    /// Where an import stands.
    public enum State: String, Sendable, Codable {
        /// Rows are being written.
        case running
        /// Every row was read and written or refused.
        case completed
        /// The import stopped part way (its request or process ended); running the file again converges.
        case interrupted
    }

    /// The import's id.
    public var id: UUID
    /// The tenant.
    public var tenantID: UUID
    /// The list imported into.
    public var listID: UUID
    /// CSV or NDJSON.
    public var format: ContactFileFormat
    /// Where it stands.
    public var state: State
    /// Its counts.
    public var counts: ContactImportCounts
    /// Who ran it (`api:<key>` or `cli:<user>`).
    public var actor: String
    /// When it began.
    public var createdAt: Date
    /// When counts last moved.
    public var updatedAt: Date
    /// When it completed.
    public var finishedAt: Date?

    /// Creates an import value.
    public init(
        id: UUID, tenantID: UUID, listID: UUID, format: ContactFileFormat, state: State, counts: ContactImportCounts, actor: String,
        createdAt: Date, updatedAt: Date, finishedAt: Date?
    ) {
        self.id = id
        self.tenantID = tenantID
        self.listID = listID
        self.format = format
        self.state = state
        self.counts = counts
        self.actor = actor
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.finishedAt = finishedAt
    }
}

/// The counts of an import.
public struct ContactImportCounts: Sendable, Equatable, Codable {
    /// Rows read (the header and blank lines are not rows).
    public var read = 0
    /// Rows that created a contact.
    public var imported = 0
    /// Rows that updated an existing contact.
    public var updated = 0
    /// Rows refused (see the import's errors).
    public var rejected = 0
    /// Imported or updated rows whose address is suppressed.
    public var suppressed = 0
    /// Rows whose address an earlier row of the file had.
    public var duplicates = 0

    /// Creates counts.
    public init(read: Int = 0, imported: Int = 0, updated: Int = 0, rejected: Int = 0, suppressed: Int = 0, duplicates: Int = 0) {
        self.read = read
        self.imported = imported
        self.updated = updated
        self.rejected = rejected
        self.suppressed = suppressed
        self.duplicates = duplicates
    }
}
