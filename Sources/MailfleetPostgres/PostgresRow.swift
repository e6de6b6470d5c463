import Foundation

/// One row of a result; every value is in text format, decoded on access.
public struct PostgresRow: Sendable {
    let storage: PostgresResultStorage
    let row: Int

    /// The text of a column by name; nil when the value is NULL or there is no such column.
    public subscript(_ column: String) -> String? {
        guard let index = storage.columnIndex[column] else { return nil }
        return self[index]
    }

    /// The text of a column by position; nil when the value is NULL or the position is out of range.
    public subscript(_ index: Int) -> String? {
        guard index >= 0 && index < storage.columns.count else { return nil }
        return storage.cells[row * storage.columns.count + index]
    }

    /// The text of a non-NULL column.
    public func string(_ column: String) throws -> String {
        guard let index = storage.columnIndex[column] else {
            throw PostgresError(message: "no column \"\(column)\" in result (columns: \(storage.columns.joined(separator: ", ")))")
        }
        guard let value = self[index] else {
            throw PostgresError(message: "column \"\(column)\" is NULL")
        }
        return value
    }

    /// An integer column (smallint, integer, bigint).
    public func int(_ column: String) throws -> Int {
        try decode(column, as: "an integer") { Int($0) }
    }

    /// A boolean column (`t`/`f`).
    public func bool(_ column: String) throws -> Bool {
        try decode(column, as: "a boolean") {
            switch $0 {
            case "t", "true": return true
            case "f", "false": return false
            default: return nil
            }
        }
    }

    /// A floating-point or numeric column (`NaN`, `Infinity` and `-Infinity` included).
    public func double(_ column: String) throws -> Double {
        try decode(column, as: "a number") {
            switch $0 {
            case "NaN": return .nan
            case "Infinity": return .infinity
            case "-Infinity": return -.infinity
            default: return Double($0)
            }
        }
    }

    /// A uuid column.
    public func uuid(_ column: String) throws -> UUID {
        try decode(column, as: "a UUID") { UUID(uuidString: $0) }
    }

    /// A timestamptz column as printed with `TimeZone = UTC, DateStyle = ISO`; timestamp and date
    /// columns (no offset) are taken as UTC.
    public func date(_ column: String) throws -> Date {
        try decode(column, as: "a timestamp") { PostgresTimestamp.parse($0) }
    }

    /// A bytea column in hex output format (`\x...`, the server default).
    public func bytes(_ column: String) throws -> [UInt8] {
        try decode(column, as: "bytea in hex format") { PostgresArrayLiteral.decodeByteaHex($0) }
    }

    /// A one-dimensional array column (such as text[]) as its elements' text, nil for NULL elements.
    public func stringArray(_ column: String) throws -> [String?] {
        try decode(column, as: "an array") { PostgresArrayLiteral.parse($0) }
    }

    /// The text of a column, or nil when it is NULL or missing.
    public func optionalString(_ column: String) -> String? {
        self[column]
    }

    /// A timestamp column that may be NULL; throws only when a present value does not parse.
    public func optionalDate(_ column: String) throws -> Date? {
        guard self[column] != nil else { return nil }
        return try date(column)
    }

    private func decode<T>(_ column: String, as kind: String, _ parse: (String) -> T?) throws -> T {
        let text = try string(column)
        guard let value = parse(text) else {
            throw PostgresError(message: "column \"\(column)\" is not \(kind): \"\(text.prefix(100))\"")
        }
        return value
    }
}
