import NIOCore

/// The bytes of `messageJSON(number:tag:campaign:)` for any request number, without building
/// strings: the text between the places the number goes, encoded once.
struct MessageTemplate: Sendable {
    /// The fixed text around the number: `pieces.count - 1` places take it.
    private let pieces: [[UInt8]]
    private let fixedLength: Int

    init(tag: String, campaign: Bool) {
        // A control character cannot appear unescaped in the JSON text, so it cannot clash.
        let marker: Character = "\u{1}"
        precondition(!tag.contains(marker), "tag contains U+0001")
        pieces = messageJSON(number: String(marker), tag: tag, campaign: campaign)
            .split(separator: marker, omittingEmptySubsequences: false)
            .map { Array($0.utf8) }
        fixedLength = pieces.reduce(0) { $0 + $1.count }
        // The template must reproduce the message exactly.
        for i in [0, 7, 12_345, 9_876_543_210] {
            var bytes: [UInt8] = []
            append(i, to: &bytes)
            precondition(bytes == Array(messageJSON(number: String(i), tag: tag, campaign: campaign).utf8), "template differs from messageJSON")
        }
    }

    /// Bytes in message `i`.
    func length(_ i: Int) -> Int {
        fixedLength + (pieces.count - 1) * decimalDigits(i)
    }

    func write(_ i: Int, to buffer: inout ByteBuffer) {
        let number = String(i)  // a small string: no allocation
        buffer.writeBytes(pieces[0])
        for k in 1..<pieces.count {
            buffer.writeString(number)
            buffer.writeBytes(pieces[k])
        }
    }

    func append(_ i: Int, to bytes: inout [UInt8]) {
        let number = String(i)
        bytes.append(contentsOf: pieces[0])
        for k in 1..<pieces.count {
            bytes.append(contentsOf: number.utf8)
            bytes.append(contentsOf: pieces[k])
        }
    }
}

func decimalDigits(_ value: Int) -> Int {
    precondition(value >= 0)
    var digits = 1
    var rest = value / 10
    while rest > 0 {
        digits += 1
        rest /= 10
    }
    return digits
}

/// A POST whose head is encoded once: only the Content-Length value and the body vary.
struct PostRequest: Sendable {
    /// Everything up to the Content-Length value.
    private let prefix: ByteBuffer
    private let message: MessageTemplate

    init(path: String, host: String, headers: [(String, String)], message: MessageTemplate) {
        var head = "POST \(path) HTTP/1.1\r\nHost: \(host)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: "
        prefix = ByteBuffer(string: head)
        self.message = message
    }

    /// Writes request `i`: the head, then message `i` as the body.
    func write(_ i: Int, to buffer: inout ByteBuffer) {
        buffer.writeImmutableBuffer(prefix)
        buffer.writeString(String(message.length(i)))
        buffer.writeStaticString("\r\n\r\n")
        message.write(i, to: &buffer)
    }
}
