/// Lines of a byte stream fed in chunks of any size (LF or CRLF endings), for NDJSON: holds at
/// most one line, and a line over `maxLineBytes` is skipped to its end and reported.
public struct LineSplitter: Sendable {
    /// One line, or why it was skipped.
    public enum Output: Sendable, Equatable {
        /// Line `line` (1-based) without its ending.
        case line(line: Int, bytes: [UInt8])
        /// Line `line` was longer than the limit.
        case tooLong(line: Int)
    }

    /// The longest line kept, in bytes.
    public let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var length = 0
    private var line = 1

    /// A splitter that refuses lines longer than `maxLineBytes`.
    public init(maxLineBytes: Int = 65_536) {
        self.maxLineBytes = maxLineBytes
    }

    /// Feeds bytes; appends every line they complete to `out`.
    public mutating func feed(_ bytes: some Sequence<UInt8>, into out: inout [Output]) {
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                endLine(into: &out)
                continue
            }
            length += 1
            if length <= maxLineBytes + 1 { buffer.append(byte) }
        }
    }

    /// Ends the input: the last line, if the file does not end with a line break.
    public mutating func finish(into out: inout [Output]) {
        if length > 0 { endLine(into: &out) }
    }

    private mutating func endLine(into out: inout [Output]) {
        if buffer.last == UInt8(ascii: "\r") {
            buffer.removeLast()
            length -= 1
        }
        out.append(length > maxLineBytes ? .tooLong(line: line) : .line(line: line, bytes: buffer))
        buffer.removeAll(keepingCapacity: true)
        length = 0
        line += 1
    }
}
