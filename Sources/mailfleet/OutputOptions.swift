import ArgumentParser
import Foundation
import MailfleetCore

/// How a listing is printed: an aligned table for people, or one JSON document for scripts.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print one JSON document (snake_case fields, times in ISO 8601) instead of a table; hints go to stderr.")
    var json = false

    /// Prints `value` as JSON, or else `table()`; a table with no rows prints nothing on stdout
    /// and `empty` on stderr, so a script reading a table sees no lines.
    func print(_ value: some Encodable, empty: String, table: () -> TextTable) throws {
        if json { return try printJSON(value) }
        let rendered = table()
        if rendered.rows.isEmpty {
            FileHandle.standardError.write(Data("\(empty)\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(rendered.text.utf8))
        }
    }

    /// Prints `value` as one JSON document.
    func printJSON(_ value: some Encodable) throws {
        FileHandle.standardOutput.write(try Self.encoder.encode(value) + Data("\n".utf8))
    }

    /// Field names in snake_case like the API's, times as the API writes them, keys sorted so
    /// the output is stable.
    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(ISO8601.format(date))
        }
        return encoder
    }
}
