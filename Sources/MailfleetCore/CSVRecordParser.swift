/// RFC 4180 CSV split into records as bytes arrive, in any chunk sizes: quoted fields may hold
/// commas, line breaks and doubled quotes; lines end in LF or CRLF. Holds at most one record,
/// so memory does not grow with the file. A record over `maxRecordBytes` is skipped to its end
/// and reported, never cut in two.
public struct CSVRecordParser: Sendable {
    /// One record, or why one could not be read.
    public enum Output: Sendable, Equatable {
        /// The fields of the record starting on physical line `line` (1-based).
        case record(line: Int, fields: [[UInt8]])
        /// The record starting on `line` is malformed.
        case malformed(line: Int, reason: String)
    }

    private enum State: Sendable {
        /// At the start of a field.
        case fieldStart
        /// Inside an unquoted field.
        case unquoted
        /// Inside a quoted field.
        case quoted
        /// Just after a quote inside a quoted field: its end, or the first of a doubled quote.
        case quoteInQuoted
        /// After a closing quote and a CR: only LF may follow.
        case crAfterQuote
    }

    /// The longest record kept, in bytes.
    public let maxRecordBytes: Int
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [[UInt8]] = []
    private var line = 1
    private var recordLine = 1
    private var recordBytes = 0
    private var problem: String?

    /// A parser that refuses records longer than `maxRecordBytes`.
    public init(maxRecordBytes: Int = 65_536) {
        self.maxRecordBytes = maxRecordBytes
    }

    /// The physical lines seen so far (1 before any input).
    public var currentLine: Int { line }

    /// Feeds bytes; appends every record they complete to `out`.
    public mutating func feed(_ bytes: some Sequence<UInt8>, into out: inout [Output]) {
        for byte in bytes { consume(byte, into: &out) }
    }

    /// Ends the input: the last record, if the file does not end with a line break.
    public mutating func finish(into out: inout [Output]) {
        switch state {
        case .quoted:
            problem = problem ?? "a quoted field is not closed before the end of the file"
            endRecord(into: &out)
        case .fieldStart where fields.isEmpty && recordBytes == 0:
            break
        default:
            endRecord(into: &out)
        }
    }

    private mutating func consume(_ byte: UInt8, into out: inout [Output]) {
        recordBytes += 1
        if recordBytes > maxRecordBytes, problem == nil {
            problem = "the row is longer than \(maxRecordBytes) bytes"
            field = []
            fields = []
        }
        let keep = problem == nil
        switch state {
        case .fieldStart, .unquoted:
            switch byte {
            case UInt8(ascii: "\""):
                if case .fieldStart = state {
                    state = .quoted
                } else {
                    problem = problem ?? "a quote inside an unquoted field (quote the whole field and double the quote)"
                }
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\n"):
                if field.last == UInt8(ascii: "\r") { field.removeLast() }
                endRecord(into: &out)
                line += 1
                recordLine = line
            default:
                if keep { field.append(byte) }
                state = .unquoted
            }
        case .quoted:
            if byte == UInt8(ascii: "\"") {
                state = .quoteInQuoted
            } else {
                if byte == UInt8(ascii: "\n") { line += 1 }
                if keep { field.append(byte) }
            }
        case .quoteInQuoted:
            switch byte {
            case UInt8(ascii: "\""):
                if keep { field.append(byte) }
                state = .quoted
            case UInt8(ascii: ","):
                endField()
            case UInt8(ascii: "\r"):
                state = .crAfterQuote
            case UInt8(ascii: "\n"):
                endRecord(into: &out)
                line += 1
                recordLine = line
            default:
                problem = problem ?? "text after a closing quote (double a quote inside a quoted field)"
                state = .unquoted
            }
        case .crAfterQuote:
            if byte == UInt8(ascii: "\n") {
                endRecord(into: &out)
                line += 1
                recordLine = line
            } else {
                problem = problem ?? "text after a closing quote (double a quote inside a quoted field)"
                state = .unquoted
            }
        }
    }

    private mutating func endField() {
        if problem == nil { fields.append(field) }
        field = []
        state = .fieldStart
    }

    private mutating func endRecord(into out: inout [Output]) {
        if let problem {
            out.append(.malformed(line: recordLine, reason: problem))
        } else {
            fields.append(field)
            // A blank line is no record (a file's trailing blank lines are common).
            if !(fields.count == 1 && fields[0].isEmpty) { out.append(.record(line: recordLine, fields: fields)) }
        }
        field = []
        fields = []
        state = .fieldStart
        recordBytes = 0
        problem = nil
    }
}
