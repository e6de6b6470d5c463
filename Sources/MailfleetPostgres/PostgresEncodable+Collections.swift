extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    /// The wrapped value's text, or nil (SQL NULL).
    public var postgresText: String? {
        switch self {
        case .none: return nil
        case .some(let value): return value.postgresText
        }
    }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// A Postgres array literal such as `{"a","b\"c",NULL}`; `[UInt8]` is sent as bytea hex (`\x0aff`).
    ///
    /// Swift cannot give `[UInt8]` a second conformance of its own, so bytea is a special case here.
    public var postgresText: String? {
        // A type test, not `self as? [UInt8]`: an empty array of anything would pass that cast.
        if Element.self == UInt8.self, let bytes = self as? [UInt8] { return PostgresArrayLiteral.byteaHex(bytes) }
        var out = ""
        appendPostgresArrayLiteral(to: &out)
        return out
    }
}

/// Arrays that write themselves unquoted inside an enclosing literal, giving multidimensional arrays.
protocol PostgresNestedArray {
    /// True for `[UInt8]`, which is a bytea scalar rather than a nested array.
    var isPostgresBytea: Bool { get }
    /// Appends `{...}` for this array.
    func appendPostgresArrayLiteral(to out: inout String)
}

extension Array: PostgresNestedArray where Element: PostgresEncodable {
    var isPostgresBytea: Bool { Element.self == UInt8.self }

    func appendPostgresArrayLiteral(to out: inout String) {
        out.append("{")
        // Decide once whether elements are nested arrays: a dynamic cast per element is costly
        // for the thousand-element arrays of batch statements.
        let nestable = Element.self is any PostgresNestedArray.Type
        for (i, element) in enumerated() {
            if i > 0 { out.append(",") }
            if nestable, let nested = element as? any PostgresNestedArray, !nested.isPostgresBytea {
                nested.appendPostgresArrayLiteral(to: &out)
            } else if let text = element.postgresText {
                PostgresArrayLiteral.appendQuoted(text, to: &out)
            } else {
                out.append("NULL")
            }
        }
        out.append("}")
    }
}
