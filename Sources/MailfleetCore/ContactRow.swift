/// One row of an import file that can be stored, with the line it came from.
public struct ContactRow: Sendable, Equatable {
    /// The physical line the row starts on (1-based; a CSV header is line 1).
    public var line: Int
    /// The address, validated and lowercased.
    public var email: String
    /// Attributes to merge into the contact's.
    public var attributes: [String: JSONValue]
    /// An IANA time zone, when the row gives one.
    public var timeZone: String?

    /// Creates a row.
    public init(line: Int, email: String, attributes: [String: JSONValue] = [:], timeZone: String? = nil) {
        self.line = line
        self.email = email
        self.attributes = attributes
        self.timeZone = timeZone
    }
}

/// A row of an import file that was refused, and why.
public struct ContactRejection: Sendable, Equatable {
    /// The physical line the row starts on.
    public var line: Int
    /// Why it was refused, for a person.
    public var reason: String

    /// Creates a rejection.
    public init(line: Int, reason: String) {
        self.line = line
        self.reason = reason
    }
}

/// What one row of an import file became.
public enum ContactLine: Sendable, Equatable {
    /// A row to store.
    case row(ContactRow)
    /// A row refused, kept with its line and reason.
    case rejected(ContactRejection)

    /// The line it came from.
    public var line: Int {
        switch self {
        case .row(let row): return row.line
        case .rejected(let rejection): return rejection.line
        }
    }
}

/// A problem with a whole import file, found before any row is stored.
public struct ContactFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable machine-readable code.
    public var code: String
    /// What is wrong, for a person.
    public var message: String

    /// Creates an error.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
