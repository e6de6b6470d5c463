import Foundation
import MailfleetCore
import Testing

/// The import file rules (docs/CAMPAIGNS.md "Import and export"): rows, line numbers, refused
/// rows with reasons, file-level errors, and the same rows however the bytes are split.
@Suite("Contact file parser")
struct ContactFileParserTests {
    /// Every line of `bytes` fed in one piece.
    func parse(_ bytes: [UInt8], _ format: ContactFileFormat) throws(ContactFileError) -> [ContactLine] {
        var parser = ContactFileParser(format: format)
        return try parser.feed(bytes) + parser.finish()
    }

    func parse(_ text: String, _ format: ContactFileFormat = .csv) throws(ContactFileError) -> [ContactLine] {
        try parse(Array(text.utf8), format)
    }

    func rejection(_ line: ContactLine) -> ContactRejection? {
        if case .rejected(let rejection) = line { return rejection }
        return nil
    }

    @Test func csvRowsBecomeContactsWithAttributesAndTimeZones() throws {
        let lines = try parse("email,first_name,time_zone,country\nAda@Example.com,Ada,Europe/Berlin,DE\nbob@example.com,,,\n")
        #expect(lines == [
            .row(ContactRow(line: 2, email: "ada@example.com", attributes: ["first_name": .string("Ada"), "country": .string("DE")], timeZone: "Europe/Berlin")),
            .row(ContactRow(line: 3, email: "bob@example.com")),
        ])
    }

    @Test func quotedFieldsHoldCommasLineBreaksAndDoubledQuotes() throws {
        let text = "\u{FEFF}Email,note\r\n\"a@example.com\",\"one, two\"\r\nb@example.com,\"line\nbreak \"\"quoted\"\"\"\r\nc@example.com,last\r\n"
        let lines = try parse(text)
        #expect(lines.map(\.line) == [2, 3, 5])
        #expect(lines[0] == .row(ContactRow(line: 2, email: "a@example.com", attributes: ["note": .string("one, two")])))
        #expect(lines[1] == .row(ContactRow(line: 3, email: "b@example.com", attributes: ["note": .string("line\nbreak \"quoted\"")])))
    }

    @Test func badRowsAreRefusedWithTheirLineAndReason() throws {
        var bytes = Array("email,city,time_zone\nnot-an-address,x,\nok@example.com,a,b,c\nok2@example.com,Berlin,Mars/Olympus\n".utf8)
        bytes += [0x7A, 0x40, 0x65, 0x78, 0x2E, 0x63, 0x6F, 0x6D, 0x2C, 0xFF, 0xFE, 0x2C, 0x0A]  // z@ex.com,<bad UTF-8>,
        bytes += Array("x@example.com,\"open\nfine@example.com,Rome,\n".utf8)
        let lines = try parse(bytes, .csv)
        let refused = lines.compactMap(rejection)
        #expect(refused.map(\.line) == [2, 3, 4, 5, 6])
        #expect(refused[0].reason.contains("not a valid address"))
        #expect(refused[1].reason == "the row has 4 fields; the header has 3")
        #expect(refused[2].reason.contains("not an IANA time zone"))
        #expect(refused[3].reason == "column 'city' is not valid UTF-8")
        #expect(refused[4].reason == "a quoted field is not closed before the end of the file")
        #expect(lines.count == 5, "the unclosed quote swallows the rest of the file into one refused row")
    }

    @Test func aRowOverTheLimitIsRefusedAndTheNextOneRead() throws {
        let huge = String(repeating: "x", count: ContactFileParser.maxRowBytes + 10)
        let lines = try parse("email,blob\na@example.com,\(huge)\nb@example.com,\"\(huge)\nstill the same row\"\nc@example.com,small\n")
        #expect(lines.compactMap(rejection) == [
            ContactRejection(line: 2, reason: "the row is longer than 65536 bytes"),
            ContactRejection(line: 3, reason: "the row is longer than 65536 bytes"),
        ])
        #expect(lines.last == .row(ContactRow(line: 5, email: "c@example.com", attributes: ["blob": .string("small")])))
    }

    @Test func strayQuotesAreRefused() throws {
        let lines = try parse("email,n\na@example.com,ab\"c\nb@example.com,\"ab\"c\n")
        #expect(lines.compactMap(rejection).map(\.line) == [2, 3])
    }

    @Test func fileLevelProblemsAreThrownBeforeAnyRow() {
        #expect(throws: ContactFileError.self) { try parse("") }
        #expect(throws: ContactFileError.self) { try parse("\u{FEFF}") }
        #expect { try parse("name,city\nada,Berlin\n") } throws: { ($0 as? ContactFileError)?.code == "missing_email_column" }
        #expect { try parse("email,Email\n") } throws: { ($0 as? ContactFileError)?.code == "invalid_header" }
        #expect { try parse("email,,x\n") } throws: { ($0 as? ContactFileError)?.code == "invalid_header" }
        #expect { try parse([0xFF, 0xFE, 0x65, 0x0A], .csv) } throws: { ($0 as? ContactFileError)?.code == "not_utf8" }
        #expect { try parse([0xFF, 0x7B, 0x7D, 0x0A], .ndjson) } throws: { ($0 as? ContactFileError)?.code == "not_utf8" }
    }

    @Test func ndjsonRowsAndTheirRefusals() throws {
        let text = """
            {"email":"Ada@Example.com","attributes":{"plan":"pro","seats":3},"time_zone":"America/New_York"}

            {"email":"b@example.com","extra":1}
            not json
            [1,2]
            {"email":"c@example.com","attributes":"x"}
            {"email":"d@example.com","time_zone":"Nowhere/Town"}
            {"attributes":{}}
            {"email":"e@example.com","status":"subscribed"}\r
            """
        let lines = try parse(text, .ndjson)
        #expect(lines.first == .row(ContactRow(
            line: 1, email: "ada@example.com", attributes: ["plan": .string("pro"), "seats": .number(3)], timeZone: "America/New_York")))
        #expect(lines.compactMap(rejection).map(\.line) == [3, 4, 5, 6, 7, 8])
        #expect(lines.compactMap(rejection).map(\.reason)[0].hasPrefix("unknown field 'extra'"))
        #expect(lines.last == .row(ContactRow(line: 9, email: "e@example.com")))
    }

    @Test func nulInsideAValueIsRefused() throws {
        let lines = try parse(#"{"email":"a@example.com","attributes":{"x":"a\u0000b"}}"#, .ndjson)
        #expect(rejection(lines[0])?.reason == "attributes must not contain NUL characters")
    }

    /// The property: any split of the bytes into chunks gives the rows of the unsplit file.
    @Test(arguments: [ContactFileFormat.csv, .ndjson]) func chunkSplitsDoNotChangeTheRows(format: ContactFileFormat) throws {
        var generator = SplitGenerator(state: 0x5EED)
        for _ in 0..<200 {
            let bytes = Self.randomFile(format, using: &generator)
            let whole = Result { () throws(ContactFileError) in try parse(bytes, format) }
            var parser = ContactFileParser(format: format, maxRowBytes: ContactFileParser.maxRowBytes)
            let split = Result { () throws(ContactFileError) -> [ContactLine] in
                var lines: [ContactLine] = []
                var index = 0
                while index < bytes.count {
                    let size = Int(generator.next() % 7) + (generator.next() % 5 == 0 ? 0 : 1)
                    let end = min(bytes.count, index + size)
                    lines += try parser.feed(bytes[index..<end])
                    index = end
                }
                return lines + (try parser.finish())
            }
            #expect(split == whole)
        }
    }

    /// A small random file with the awkward parts: BOM, CRLF, quotes, commas, line breaks inside quotes, bad rows, blank lines.
    static func randomFile(_ format: ContactFileFormat, using generator: inout SplitGenerator) -> [UInt8] {
        let pieces = ["a", "b,c", "x\"y", "line\nbreak", " ", "é", ""]
        var text = generator.next() % 2 == 0 ? "\u{FEFF}" : ""
        text += format == .csv ? "email,note\r\n" : ""
        for row in 0..<Int(generator.next() % 12) {
            let note = pieces[Int(generator.next() % UInt64(pieces.count))]
            let address = generator.next() % 6 == 0 ? "broken\(row)" : "user\(row % 5)@example.com"
            let end = generator.next() % 2 == 0 ? "\r\n" : "\n"
            switch format {
            case .csv:
                text += "\(address),\"\(note.replacingOccurrences(of: "\"", with: "\"\""))\"" + end
            case .ndjson:
                let escaped = note.replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: "\\n")
                text += #"{"email":"\#(address)","attributes":{"note":"\#(escaped)"}}"# + end
            }
            if generator.next() % 8 == 0 { text += end }
        }
        var bytes = Array(text.utf8)
        if generator.next() % 4 == 0 { bytes += [0xC3, 0x28, 0x0A] }
        return bytes
    }

    struct SplitGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 17
        }
    }

    @Test func aBatchKeepsTheFirstRowOfEachAddress() {
        var batch = ContactBatch()
        batch.add(.row(ContactRow(line: 2, email: "a@example.com", attributes: ["n": .string("first")])))
        batch.add(.rejected(ContactRejection(line: 3, reason: "bad")))
        batch.add(.row(ContactRow(line: 4, email: "a@example.com", attributes: ["n": .string("second")])))
        batch.add(.row(ContactRow(line: 5, email: "b@example.com")))
        #expect(batch.rows.map(\.line) == [2, 5])
        #expect(batch.duplicates == 1 && batch.rejections.count == 1 && batch.rowsRead == 4)
    }

    @Test func exportLinesReadBackAsTheSameContacts() throws {
        let attributes: [String: JSONValue] = ["note": .string("a, \"b\"\nc"), "seats": .number(3)]
        let csv = ContactExportLine.csvHeader(attributes: ["note", "seats"])
            + ContactExportLine.csv(email: "a@example.com", status: .subscribed, timeZone: "Europe/Berlin", attributes: attributes, columns: ["note", "seats"])
        #expect(try parse(csv) == [.row(ContactRow(line: 2, email: "a@example.com", attributes: ["note": .string("a, \"b\"\nc"), "seats": .string("3")], timeZone: "Europe/Berlin"))])
        let ndjson = ContactExportLine.ndjson(email: "a@example.com", status: .pending, timeZone: nil, attributes: attributes)
        #expect(try parse(ndjson, .ndjson) == [.row(ContactRow(line: 1, email: "a@example.com", attributes: attributes))])
    }

    @Test func timeZonesMustBeIANANames() throws {
        #expect(try ContactFields.timeZone("Europe/Berlin") == "Europe/Berlin")
        #expect(try ContactFields.timeZone("UTC") == "UTC")
        #expect(try ContactFields.timeZone("") == nil)
        for bad in ["EST", "GMT+2", "Mars/Olympus", "../etc/passwd"] {
            #expect(throws: FieldError.self) { try ContactFields.timeZone(bad) }
        }
    }
}
