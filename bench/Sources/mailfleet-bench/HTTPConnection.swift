import NIOCore

/// Told when a response on an `HTTPConnection` is complete or the connection is gone.
/// Called on the connection's event loop.
protocol HTTPConnectionDelegate: AnyObject {
    /// A whole response arrived. `body` is only valid during the call (its storage is reused),
    /// and the connection is idle again, so the delegate may send the next request at once.
    func connection(_ connection: HTTPConnection, finishedWith status: Int, body: ByteBuffer)
    /// The connection closed; `inFlight` says whether a request was still waiting for its answer.
    func connectionClosed(_ connection: HTTPConnection, inFlight: Bool)
}

/// One HTTP/1.1 keep-alive connection carrying one request at a time (no pipelining).
///
/// Built for the load generator, whose own CPU competes with the system under test: the caller
/// writes the request's bytes straight into a buffer that is reused for every request, and the
/// response is parsed in place (`HTTPResponseParser`) into a reused body buffer, so a request
/// costs no allocations here once the buffers have grown. Only the event loop touches it.
final class HTTPConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    weak var delegate: (any HTTPConnectionDelegate)?
    /// The caller's tag for the request in flight.
    var request = 0
    /// Whether a request is waiting for its answer.
    private(set) var busy = false
    /// Whether the connection can take a request (false from the moment it starts closing).
    private(set) var isOpen = false

    private var context: ChannelHandlerContext?
    private var closing = false
    private var parser = HTTPResponseParser()
    private var outgoing = ByteBuffer()
    /// Bytes of an incomplete response head or chunk line, kept until the next read.
    private var pending = ByteBuffer()
    private var body = ByteBuffer()

    init(delegate: any HTTPConnectionDelegate) {
        self.delegate = delegate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isOpen = context.channel.isActive
        outgoing = context.channel.allocator.buffer(capacity: 4096)
        body = context.channel.allocator.buffer(capacity: 1024)
    }

    /// Sends a request: `write` appends its bytes (head and body) to an empty buffer.
    func send(_ write: (inout ByteBuffer) -> Void) {
        precondition(isOpen && !busy, "one request at a time, on an open connection")
        guard let context else { return }
        busy = true
        parser = HTTPResponseParser()
        outgoing.clear()  // the previous request's bytes were written out long ago: no copy
        write(&outgoing)
        context.writeAndFlush(wrapOutboundOut(outgoing), promise: nil)
    }

    func close() {
        isOpen = false
        guard !closing else { return }
        closing = true
        context?.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if pending.readableBytes == 0 {
            // The usual case: parse the read buffer itself and keep no reference to it, so the
            // channel can reuse it for the next read.
            consume(&incoming)
            if isOpen, incoming.readableBytes > 0 { pending.writeBuffer(&incoming) }
        } else {
            pending.writeBuffer(&incoming)
            consume(&pending)
            if pending.readableBytes == 0 { pending.clear() } else { pending.discardReadBytes() }
        }
    }

    private func consume(_ buffer: inout ByteBuffer) {
        while isOpen, buffer.readableBytes > 0 {
            guard busy else {
                // Bytes nobody asked for: the connection is out of step.
                close()
                return
            }
            switch parser.parse(&buffer, body: &body) {
            case .needMore:
                return
            case .failed:
                close()
                return
            case .complete:
                finish()
            }
        }
    }

    private func finish() {
        busy = false
        // A server that said it closes gets no further request.
        if parser.closeAfter { isOpen = false }
        delegate?.connection(self, finishedWith: parser.status, body: body)
        body.clear()
        if !isOpen { close() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        isOpen = false
        closing = true
        if busy, parser.readsUntilClose {
            finish()
        }
        let inFlight = busy
        busy = false
        delegate?.connectionClosed(self, inFlight: inFlight)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close()
    }
}

/// An HTTP/1.1 response parser for `HTTPConnection`: status, `Content-Length`, chunked
/// transfer coding, bodies delimited by the connection's close, 1xx interim answers skipped,
/// `Connection: close` noted. It reads header names it needs and skips the rest, so it
/// allocates nothing.
struct HTTPResponseParser {
    enum Step { case needMore, complete, failed }

    private enum State {
        case head
        case fixed(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers
        case untilClose
    }

    private var state = State.head
    private(set) var status = 0
    private(set) var closeAfter = false
    var readsUntilClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// Longest response head (or chunk-size or trailer line) accepted.
    static let maxHeadBytes = 64 * 1024

    /// Consumes what it can of `buffer`, appending body bytes to `body`; stops after a whole response.
    mutating func parse(_ buffer: inout ByteBuffer, body: inout ByteBuffer) -> Step {
        while true {
            switch state {
            case .head:
                guard let head = parseHead(&buffer) else { return .failed }
                guard let (status, length, chunked, close) = head else { return .needMore }
                self.status = status
                closeAfter = close
                if status >= 100 && status < 200 {
                    continue  // interim answer; the real one follows
                }
                if status == 204 || status == 304 {
                    return .complete
                }
                if chunked {
                    state = .chunkSize
                } else if let length {
                    if length == 0 { return .complete }
                    state = .fixed(remaining: length)
                } else {
                    state = .untilClose
                }
            case .fixed(let remaining):
                let taken = take(remaining, from: &buffer, into: &body)
                if taken == remaining {
                    state = .head
                    return .complete
                }
                state = .fixed(remaining: remaining - taken)
                return .needMore
            case .chunkSize:
                guard let line = readLine(&buffer) else { return buffer.readableBytes > 1024 ? .failed : .needMore }
                guard let size = line.size else { return .failed }
                state = size == 0 ? .trailers : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let taken = take(remaining, from: &buffer, into: &body)
                if taken < remaining {
                    state = .chunkData(remaining: remaining - taken)
                    return .needMore
                }
                state = .chunkDataEnd
            case .chunkDataEnd:
                guard buffer.readableBytes >= 2 else { return .needMore }
                guard buffer.readInteger(as: UInt16.self) == 0x0D0A else { return .failed }
                state = .chunkSize
            case .trailers:
                guard let line = readLine(&buffer) else {
                    return buffer.readableBytes > Self.maxHeadBytes ? .failed : .needMore
                }
                if line.empty {
                    state = .head
                    return .complete
                }
            case .untilClose:
                _ = take(buffer.readableBytes, from: &buffer, into: &body)
                return .needMore
            }
        }
    }

    private func take(_ wanted: Int, from buffer: inout ByteBuffer, into body: inout ByteBuffer) -> Int {
        let count = min(wanted, buffer.readableBytes)
        if count > 0, var slice = buffer.readSlice(length: count) {
            body.writeBuffer(&slice)
        }
        return count
    }

    /// Reads one CRLF-terminated line; returns whether it was empty and its leading hex number
    /// (a chunk size; extensions after `;` ignored), or nil when the line is incomplete.
    private func readLine(_ buffer: inout ByteBuffer) -> (empty: Bool, size: Int?)? {
        let found: (length: Int, empty: Bool, size: Int?)? = buffer.withUnsafeReadableBytes { bytes in
            guard bytes.count >= 2 else { return nil }
            var end = 0
            while end + 1 < bytes.count, !(bytes[end] == 13 && bytes[end + 1] == 10) { end += 1 }
            guard end + 1 < bytes.count else { return nil }
            var size = 0
            var digits = 0
            var k = 0
            while k < end {
                let c = bytes[k]
                let value: Int
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): value = Int(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): value = Int(c - UInt8(ascii: "a")) + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): value = Int(c - UInt8(ascii: "A")) + 10
                default: value = -1
                }
                if value < 0 || digits >= 15 { break }
                size = size * 16 + value
                digits += 1
                k += 1
            }
            return (end + 2, end == 0, digits > 0 ? size : nil)
        }
        guard let found else { return nil }
        buffer.moveReaderIndex(forwardBy: found.length)
        return (found.empty, found.size)
    }

    /// Parses a response head if `buffer` holds all of it, consuming it. Returns nil for a
    /// malformed head, `.some(nil)` for an incomplete one.
    private func parseHead(_ buffer: inout ByteBuffer) -> (status: Int, length: Int?, chunked: Bool, close: Bool)?? {
        let parsed: (consumed: Int, status: Int, length: Int?, chunked: Bool, close: Bool)?? = buffer.withUnsafeReadableBytes { bytes in
            let n = bytes.count
            // The end of the head: the first empty line.
            var end = 0
            while end + 3 < n, !(bytes[end] == 13 && bytes[end + 1] == 10 && bytes[end + 2] == 13 && bytes[end + 3] == 10) {
                end += 1
            }
            guard end + 3 < n else { return n > Self.maxHeadBytes ? nil : .some(nil) }
            // "HTTP/1.x NNN ..."
            guard end >= 12, bytes[0] == UInt8(ascii: "H"), bytes[4] == UInt8(ascii: "/"), bytes[5] == UInt8(ascii: "1"),
                bytes[8] == UInt8(ascii: " ")
            else { return nil }
            var status = 0
            for k in 9..<12 {
                let d = bytes[k] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                status = status * 10 + Int(d)
            }
            var close = bytes[7] == UInt8(ascii: "0")  // HTTP/1.0 closes unless it says keep-alive
            var length: Int?
            var chunked = false
            // Header lines: from after the status line's CRLF to `end`.
            // (bytes[end] and bytes[end + 1] are a CRLF, so these scans stop there at the latest.)
            var line = 0
            while line < end, !(bytes[line] == 13 && bytes[line + 1] == 10) { line += 1 }
            line += 2
            while line < end {
                var lineEnd = line
                while lineEnd < end, !(bytes[lineEnd] == 13 && bytes[lineEnd + 1] == 10) { lineEnd += 1 }
                var colon = line
                while colon < lineEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
                if colon < lineEnd {
                    var valueStart = colon + 1
                    while valueStart < lineEnd, bytes[valueStart] == 32 || bytes[valueStart] == 9 { valueStart += 1 }
                    let name = line..<colon
                    let value = valueStart..<lineEnd
                    if Self.equalsLowercase(bytes, name, "content-length") {
                        var total = 0
                        var digits = 0
                        for k in value {
                            let d = bytes[k] &- UInt8(ascii: "0")
                            if d >= 10 { break }
                            total = total * 10 + Int(d)
                            digits += 1
                            if digits > 15 { return nil }
                        }
                        guard digits > 0 else { return nil }
                        length = total
                    } else if Self.equalsLowercase(bytes, name, "transfer-encoding") {
                        chunked = Self.containsLowercase(bytes, value, "chunked")
                    } else if Self.equalsLowercase(bytes, name, "connection") {
                        if Self.containsLowercase(bytes, value, "close") { close = true }
                        if Self.containsLowercase(bytes, value, "keep-alive") { close = false }
                    }
                }
                line = lineEnd + 2
            }
            return .some((end + 4, status, length, chunked, close))
        }
        switch parsed {
        case .none: return nil
        case .some(.none): return .some(nil)
        case .some(.some(let head)):
            buffer.moveReaderIndex(forwardBy: head.consumed)
            return .some((head.status, head.length, head.chunked, head.close))
        }
    }

    /// ASCII case-insensitive comparison with a lowercase literal.
    private static func equalsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        guard range.count == literal.utf8CodeUnitCount else { return false }
        let text = literal.utf8Start
        for k in 0..<range.count where lowercased(bytes[range.lowerBound + k]) != text[k] { return false }
        return true
    }

    private static func containsLowercase(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>, _ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard range.count >= count else { return false }
        let text = literal.utf8Start
        outer: for start in range.lowerBound...(range.upperBound - count) {
            for k in 0..<count where lowercased(bytes[start + k]) != text[k] { continue outer }
            return true
        }
        return false
    }

    private static func lowercased(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c | 0x20 : c
    }
}
