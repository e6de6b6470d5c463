import Foundation
import MailfleetCore

/// A value that can be sent as a text-format query parameter.
public protocol PostgresEncodable: Sendable {
    /// The value in Postgres text input syntax; nil sends SQL NULL.
    var postgresText: String? { get }
}

extension String: PostgresEncodable {
    /// The string itself.
    public var postgresText: String? { self }
}

extension Int: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    /// Decimal digits.
    public var postgresText: String? { String(self) }
}

extension UInt8: PostgresEncodable {
    /// Decimal digits; exists so that `[UInt8]` can be special-cased as bytea by the Array conformance.
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    /// Shortest round-trip decimal; the non-finite values use the spellings float8 accepts.
    public var postgresText: String? {
        if isNaN { return "NaN" }
        if isInfinite { return self < 0 ? "-Infinity" : "Infinity" }
        return description
    }
}

extension Bool: PostgresEncodable {
    /// "t" or "f".
    public var postgresText: String? { self ? "t" : "f" }
}

extension UUID: PostgresEncodable {
    /// Lowercase canonical form, as the server prints uuid values (written directly:
    /// `uuidString` formats through C's printf, and every message row sends two).
    public var postgresText: String? { UUIDText.lowercase(self) }
}

extension Date: PostgresEncodable {
    /// ISO 8601 in UTC with microseconds, e.g. `2026-11-22 06:51:02.123456+00`.
    public var postgresText: String? { PostgresTimestamp.format(self) }
}
