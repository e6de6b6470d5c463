import Foundation

/// An import file (CSV or NDJSON) read into contact rows as bytes arrive, in chunks of any
/// size, holding at most one row: the rules of docs/CAMPAIGNS.md "Import and export". Every
/// row becomes a `ContactLine` (a row or a rejection with its line number); a problem with the
/// whole file (no header, no `email` column, not UTF-8) is thrown before any row is returned.
public struct ContactFileParser: Sendable {
    /// The longest row, in bytes.
    public static let maxRowBytes = 65_536

    /// The format being read.
    public let format: ContactFileFormat
    private var csv: CSVRecordParser
    private var lines: LineSplitter
    private var header: CSVHeader?
    private var sawFirstLine = false
    private var heldBOM: [UInt8] = []
    private var position = 0
    private var csvOutput: [CSVRecordParser.Output] = []
    private var lineOutput: [LineSplitter.Output] = []
    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// A parser of `format` files whose rows are at most `maxRowBytes` long.
    public init(format: ContactFileFormat, maxRowBytes: Int = ContactFileParser.maxRowBytes) {
        self.format = format
        csv = CSVRecordParser(maxRecordBytes: maxRowBytes)
        lines = LineSplitter(maxLineBytes: maxRowBytes)
    }

    /// The CSV columns, once the header row is read.
    public var columns: [String]? { header?.names }

    /// Feeds bytes; returns the rows they complete, in file order.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(ContactFileError) -> [ContactLine] {
        var body = bytes[...]
        // A UTF-8 byte order mark at the very start is not part of the first column's name.
        while position < 3, let byte = body.first {
            position += 1
            if byte == Self.bom[heldBOM.count] {
                heldBOM.append(byte)
                body = body.dropFirst()
                if heldBOM.count == 3 { heldBOM = [] ; position = 3 }
            } else {
                position = 3
                let held = heldBOM
                heldBOM = []
                try pass(held)
            }
        }
        return try pass(body)
    }

    /// Ends the input; returns the last rows. Throws when the file had no header row.
    public mutating func finish() throws(ContactFileError) -> [ContactLine] {
        var rows = try pass(heldBOM)
        heldBOM = []
        switch format {
        case .csv:
            csv.finish(into: &csvOutput)
            rows += try drainCSV()
            if header == nil { throw ContactFileError(code: "missing_header", message: "the file is empty: a CSV import needs a header row naming an email column") }
        case .ndjson:
            lines.finish(into: &lineOutput)
            rows += try drainLines()
        }
        return rows
    }

    @discardableResult
    private mutating func pass(_ bytes: some Collection<UInt8>) throws(ContactFileError) -> [ContactLine] {
        guard !bytes.isEmpty else { return [] }
        switch format {
        case .csv:
            csv.feed(bytes, into: &csvOutput)
            return try drainCSV()
        case .ndjson:
            lines.feed(bytes, into: &lineOutput)
            return try drainLines()
        }
    }

    private mutating func drainCSV() throws(ContactFileError) -> [ContactLine] {
        defer { csvOutput.removeAll(keepingCapacity: true) }
        var rows: [ContactLine] = []
        for output in csvOutput {
            guard let header else {
                header = try CSVHeader(output)
                continue
            }
            switch output {
            case .malformed(let line, let reason):
                rows.append(.rejected(ContactRejection(line: line, reason: reason)))
            case .record(let line, let fields):
                rows.append(header.row(line: line, fields: fields))
            }
        }
        return rows
    }

    private mutating func drainLines() throws(ContactFileError) -> [ContactLine] {
        defer { lineOutput.removeAll(keepingCapacity: true) }
        var rows: [ContactLine] = []
        for output in lineOutput {
            switch output {
            case .tooLong(let line):
                sawFirstLine = true
                rows.append(.rejected(ContactRejection(line: line, reason: "the row is longer than \(lines.maxLineBytes) bytes")))
            case .line(let line, let bytes):
                // Blank lines separate nothing in NDJSON; they are not rows.
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    if !sawFirstLine { throw ContactFileError(code: "not_utf8", message: "the file is not UTF-8 text (line \(line) is not valid UTF-8)") }
                    rows.append(.rejected(ContactRejection(line: line, reason: "the row is not valid UTF-8")))
                    continue
                }
                sawFirstLine = true
                rows.append(Self.ndjsonRow(line: line, text: text))
            }
        }
        return rows
    }

    /// One NDJSON line: `{"email": ..., "attributes": {...}, "time_zone": ...}`.
    static func ndjsonRow(line: Int, text: String) -> ContactLine {
        func rejected(_ reason: String) -> ContactLine { .rejected(ContactRejection(line: line, reason: reason)) }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
            return rejected("the row is not valid JSON")
        }
        guard case .object(let object) = value else { return rejected("the row is not a JSON object") }
        // `status` is what an export writes; an import never sets a status (see docs/CAMPAIGNS.md).
        if let unknown = object.keys.sorted().first(where: { !["email", "attributes", "time_zone", "status"].contains($0) }) {
            return rejected("unknown field \(ContactFields.quoted(unknown)) (fields are email, attributes, time_zone)")
        }
        guard case .string(let emailText)? = object["email"] else {
            return rejected(object["email"] == nil ? "email is missing" : "email is not a string")
        }
        var attributes: [String: JSONValue] = [:]
        switch object["attributes"] {
        case nil, .null?: break
        case .object(let given)?: attributes = given
        default: return rejected("attributes is not a JSON object")
        }
        var zone: String?
        switch object["time_zone"] {
        case nil, .null?: break
        case .string(let text)?: zone = text
        default: return rejected("time_zone is not a string")
        }
        return ContactRow.checked(line: line, email: emailText, attributes: attributes, timeZone: zone)
    }
}

extension ContactRow {
    /// A row from raw values, or its rejection naming the first thing wrong.
    static func checked(line: Int, email: String, attributes: [String: JSONValue], timeZone: String?) -> ContactLine {
        do {
            let address = try ContactFields.address(email)
            let zone = try ContactFields.timeZone(timeZone)
            let attributes = try ContactFields.attributes(attributes)
            return .row(ContactRow(line: line, email: address, attributes: attributes, timeZone: zone))
        } catch {
            return .rejected(ContactRejection(line: line, reason: error.message))
        }
    }
}

/// A CSV file's header row: which column is the address, which the time zone, and the names
/// of the rest (attributes).
struct CSVHeader: Sendable {
    let names: [String]
    let email: Int
    let timeZone: Int?
    /// An export's `status` column: read past, since an import never sets a status.
    let status: Int?

    init(_ output: CSVRecordParser.Output) throws(ContactFileError) {
        let fields: [[UInt8]]
        switch output {
        case .malformed(let line, let reason):
            throw ContactFileError(code: "invalid_header", message: "the header row (line \(line)) is malformed: \(reason)")
        case .record(_, let given):
            fields = given
        }
        var names: [String] = []
        for field in fields {
            guard let name = String(validating: field, as: UTF8.self) else {
                throw ContactFileError(code: "not_utf8", message: "the file is not UTF-8 text (its header row is not valid UTF-8)")
            }
            names.append(name.trimmingCharacters(in: .whitespaces))
        }
        if let blank = names.firstIndex(of: "") {
            throw ContactFileError(code: "invalid_header", message: "column \(blank + 1) of the header row has no name")
        }
        let lowered = names.map { $0.lowercased() }
        if let duplicate = lowered.enumerated().first(where: { lowered[..<$0.offset].contains($0.element) }) {
            throw ContactFileError(code: "invalid_header", message: "the header row names column \(ContactFields.quoted(names[duplicate.offset])) twice")
        }
        guard let email = lowered.firstIndex(of: "email") else {
            throw ContactFileError(
                code: "missing_email_column",
                message: "the header row has no email column (it names \(names.prefix(10).map(ContactFields.quoted).joined(separator: ", ")))")
        }
        if let long = names.first(where: { $0.count > ContactFields.maxAttributeNameLength }) {
            throw ContactFileError(code: "invalid_header", message: "column \(ContactFields.quoted(long)) is longer than \(ContactFields.maxAttributeNameLength) characters")
        }
        self.names = names
        self.email = email
        timeZone = lowered.firstIndex(of: "time_zone")
        status = lowered.firstIndex(of: "status")
    }

    /// A data record as a row: empty cells set no attribute.
    func row(line: Int, fields: [[UInt8]]) -> ContactLine {
        guard fields.count == names.count else {
            return .rejected(ContactRejection(line: line, reason: "the row has \(fields.count) fields; the header has \(names.count)"))
        }
        var attributes: [String: JSONValue] = [:]
        var email = ""
        var zone: String?
        for (index, field) in fields.enumerated() {
            guard let text = String(validating: field, as: UTF8.self) else {
                return .rejected(ContactRejection(line: line, reason: "column \(ContactFields.quoted(names[index])) is not valid UTF-8"))
            }
            if index == self.email {
                email = text
            } else if index == timeZone {
                zone = text.trimmingCharacters(in: .whitespaces)
            } else if index != status, !text.isEmpty {
                attributes[names[index]] = .string(text)
            }
        }
        return ContactRow.checked(line: line, email: email, attributes: attributes, timeZone: zone)
    }
}
