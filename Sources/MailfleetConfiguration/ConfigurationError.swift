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
        let shown = Self.redacted(text)
        return source.hasPrefix("--") ? "\(source) \(shown): expected \(expectation)" : "\(source)=\(shown): expected \(expectation)"
    }

    /// `text` with the password of a URL's user information masked, so a refused database or
    /// Redis URL does not put its password into logs.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].firstIndex(of: "@"),
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":") else { return text }
        return String(text[..<text.index(after: colon)]) + "***" + String(text[at...])
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
