/// One HTTP header field, kept exactly as it was sent or received.
public struct HTTPHeader: Sendable, Equatable {
    /// The field name, in the spelling the sender used.
    public var name: String
    /// The field value, without surrounding whitespace.
    public var value: String

    /// Creates a header field from a name and a value.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
