import Foundation
import MailfleetCore
import Testing

/// What an export gives back when it is imported: NDJSON every attribute as it was; CSV text
/// only (docs/CAMPAIGNS.md, "Export"), and a header an import accepts whatever the names.
@Suite("Contact export read back by the import")
struct ContactExportRoundTripTests {
    let attributes: [String: JSONValue] = [
        "name": .string("Ada"), "note": .string("a, \"b\"\nc"), "zip": .string("01234"), "age": .number(36), "vip": .bool(true),
        "tags": .array([.string("a"), .string("b")]), "address": .object(["city": .string("Berlin")]), "blank": .string(""), "gone": .null,
    ]

    func read(_ text: String, _ format: ContactFileFormat) throws -> [ContactRow] {
        var parser = ContactFileParser(format: format)
        let lines = try parser.feed(Array(text.utf8)) + parser.finish()
        return lines.compactMap { if case .row(let row) = $0 { row } else { nil } }
    }

    @Test func ndjsonGivesBackEveryAttributeAsItWas() throws {
        let line = ContactExportLine.ndjson(email: "ada@example.com", status: .subscribed, timeZone: "Europe/Berlin", attributes: attributes)
        let rows = try read(line, .ndjson)
        #expect(rows == [ContactRow(line: 1, email: "ada@example.com", attributes: attributes, timeZone: "Europe/Berlin")])
    }

    @Test func csvGivesBackTextAndOtherValuesAsTheirJSONText() throws {
        let columns = ContactExportLine.csvColumns(attributes.keys.sorted())
        let file = ContactExportLine.csvHeader(attributes: columns)
            + ContactExportLine.csv(email: "ada@example.com", status: .subscribed, timeZone: "Europe/Berlin", attributes: attributes, columns: columns)
        let rows = try read(file, .csv)
        // Strings as they were (leading zeros kept); numbers, booleans, arrays and objects as
        // their JSON text; an empty string and null as no attribute at all.
        let expected: [String: JSONValue] = [
            "name": .string("Ada"), "note": .string("a, \"b\"\nc"), "zip": .string("01234"), "age": .string("36"), "vip": .string("true"),
            "tags": .string(#"["a","b"]"#), "address": .string(#"{"city":"Berlin"}"#),
        ]
        #expect(rows == [ContactRow(line: 2, email: "ada@example.com", attributes: expected, timeZone: "Europe/Berlin")])
    }

    @Test func csvLeavesOutAttributesWhoseNamesAnImportCouldNotTellApart() throws {
        let columns = ContactExportLine.csvColumns(["Email", "Name", "STATUS", "Time_Zone", "city", "name"])
        #expect(columns == ["Name", "city"])
        let member: [String: JSONValue] = ["Email": .string("other@example.com"), "Name": .string("Ada"), "name": .string("ada"), "city": .string("Berlin")]
        let file = ContactExportLine.csvHeader(attributes: columns)
            + ContactExportLine.csv(email: "ada@example.com", status: .subscribed, timeZone: nil, attributes: member, columns: columns)
        #expect(try read(file, .csv) == [ContactRow(line: 2, email: "ada@example.com", attributes: ["Name": .string("Ada"), "city": .string("Berlin")])])
    }
}
