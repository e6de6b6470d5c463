import ArgumentParser

/// A setting whose value cannot be used; the process stops at start with this message.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    /// The variable or flag the value came from.
    public let source: String
    /// The value as given.
    public let text: String
    /// What a valid value looks like.
    public let expectation: String

    public var description: String {
        source.hasPrefix("--") ? "\(source) \(text): expected \(expectation)" : "\(source)=\(text): expected \(expectation)"
    }
}

/// Runs an option group's reads for `validate()`, so ArgumentParser reports a bad value like any
/// other usage error: the message, the usage line, and exit status 64.
func validateSettings(_ reads: () throws -> Void) throws {
    do {
        try reads()
    } catch let error as ConfigurationError {
        throw ValidationError(error.description)
    }
}
