/// A small strict JSON parser (RFC 8259) into `JSONValue`, for JSON Mailfleet wrote itself and
/// reads on the hot path (stored envelopes and bodies). Foundation's `JSONDecoder` pays for
/// generic `Decodable` machinery on every field; this reads bytes straight into values.
public struct JSONReader {
    /// Why the input is not JSON.
    public struct Failure: Error, Equatable {
        /// Byte offset of the problem.
        public var offset: Int
        /// What was wrong.
        public var reason: String
    }

    /// Parses a whole document (surrounding whitespace allowed, nothing else after it).
    public static func parse(_ bytes: some Collection<UInt8>) throws(Failure) -> JSONValue {
        let array = Array(bytes)
        return try array.withUnsafeBufferPointer { buffer throws(Failure) -> JSONValue in
            var reader = Cursor(bytes: buffer)
            reader.skipWhitespace()
            let value = try reader.value(depth: 0)
            reader.skipWhitespace()
            guard reader.position == buffer.count else { throw Failure(offset: reader.position, reason: "trailing characters") }
            return value
        }
    }

    /// Parses a string's UTF-8.
    public static func parse(_ text: String) throws(Failure) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0
        static let maxDepth = 64

        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        func fail(_ reason: String) -> Failure { Failure(offset: position, reason: reason) }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) throws(Failure) -> JSONValue {
            guard depth < Self.maxDepth else { throw fail("nested too deeply") }
            guard position < bytes.count else { throw fail("unexpected end") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try object(depth: depth)
            case UInt8(ascii: "["): return try array(depth: depth)
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return .number(try number())
            }
        }

        mutating func literal(_ word: StaticString) throws(Failure) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw fail("unexpected end") }
            for i in 0..<count where bytes[position + i] != word.utf8Start[i] { throw fail("invalid literal") }
            position += count
        }

        mutating func object(depth: Int) throws(Failure) -> JSONValue {
            position += 1
            var result: [String: JSONValue] = [:]
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(result)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                let key = try string()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                position += 1
                skipWhitespace()
                guard result.updateValue(try value(depth: depth + 1), forKey: key) == nil else { throw fail("duplicate key") }
                skipWhitespace()
                guard position < bytes.count else { throw fail("unexpected end") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                position += 1
                return .object(result)
            }
        }

        mutating func array(depth: Int) throws(Failure) -> JSONValue {
            position += 1
            var result: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(result)
            }
            while true {
                skipWhitespace()
                result.append(try value(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw fail("unexpected end") }
                if bytes[position] == UInt8(ascii: ",") {
                    position += 1
                    continue
                }
                guard bytes[position] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                position += 1
                return .array(result)
            }
        }

        /// A string; runs without escapes are copied whole (validated as UTF-8 on the way).
        mutating func string() throws(Failure) -> String {
            position += 1
            let start = position
            // Fast path: no escapes before the closing quote.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let run = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    guard let text = String(validating: run, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                guard byte >= 0x20 else { throw fail("control character in string") }
                position += 1
            }
            var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8") }
                    return text
                }
                guard byte >= 0x20 else { throw fail("control character in string") }
                guard byte == UInt8(ascii: "\\") else {
                    out.append(byte)
                    position += 1
                    continue
                }
                position += 1
                guard position < bytes.count else { throw fail("unexpected end") }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "/"): out.append(0x2F)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        // A high surrogate must be followed by an escaped low surrogate.
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw fail("unpaired surrogate")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw fail("unpaired surrogate")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("invalid escape") }
                    out.append(contentsOf: UTF8.encode(unicode)!)
                default:
                    throw fail("invalid escape")
                }
            }
            throw fail("unterminated string")
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            guard position + 4 <= bytes.count else { throw fail("unexpected end") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw fail("invalid \\u escape")
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        mutating func number() throws(Failure) -> Double {
            let start = position
            if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
            func digits(_ c: inout Cursor) -> Int {
                let from = c.position
                while c.position < c.bytes.count, (0x30...0x39).contains(c.bytes[c.position]) { c.position += 1 }
                return c.position - from
            }
            let intStart = position
            let intDigits = digits(&self)
            guard intDigits > 0 else { throw fail("invalid value") }
            guard !(intDigits > 1 && bytes[intStart] == UInt8(ascii: "0")) else { throw fail("leading zero") }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard digits(&self) > 0 else { throw fail("invalid number") }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text) else { throw fail("invalid number") }
            return value
        }
    }
}

extension MessageContent {
    /// Reads stored content (what `storageJSON`, or the `Codable` encoding of earlier versions,
    /// wrote) without validating it again: it was validated when accepted. Nil when the JSON is
    /// not of that shape; callers then fall back to `JSONDecoder`, which says what is wrong.
    public init?(storageJSON bytes: some Collection<UInt8>) {
        guard case .object(let fields)? = try? JSONReader.parse(bytes) else { return nil }
        var attachments: [MessageAttachment] = []
        let content = MessageContent.read(fields, address: EmailAddress.init(stored:), allowingNulls: true) { key, value in
            guard key == "attachments", let list = MessageAttachment.list(stored: value) else { return false }
            attachments = list
            return true
        }
        guard var content else { return nil }
        content.attachments = attachments
        self = content
    }

    /// The content fields of a parsed JSON object, addresses read by `address`. A field this
    /// does not know goes to `other`, which takes it (true) or refuses it (false). Explicit
    /// nulls for reply_to, text and html are read as absent only when `allowingNulls` (stored
    /// content of earlier versions has them). Nil when a field is missing, mistyped or refused.
    static func read(
        _ fields: [String: JSONValue], address: (JSONValue) -> EmailAddress?, allowingNulls: Bool,
        other: (String, JSONValue) -> Bool
    ) -> MessageContent? {
        var from: EmailAddress?
        var to: [EmailAddress]?
        var content = MessageContent(from: EmailAddress(trusted: ""), to: [], subject: "")
        for (key, value) in fields {
            switch (key, value) {
            case ("from", _): from = address(value)
            case ("to", _): to = EmailAddress.list(value, address)
            case ("cc", _): guard let list = EmailAddress.list(value, address) else { return nil }; content.cc = list
            case ("bcc", _): guard let list = EmailAddress.list(value, address) else { return nil }; content.bcc = list
            case ("reply_to", .null) where allowingNulls: content.replyTo = nil
            case ("reply_to", _): guard let replyTo = address(value) else { return nil }; content.replyTo = replyTo
            case ("subject", .string(let s)): content.subject = s
            case ("text", .string(let s)): content.text = s
            case ("text", .null) where allowingNulls: content.text = nil
            case ("html", .string(let s)): content.html = s
            case ("html", .null) where allowingNulls: content.html = nil
            case ("headers", _): guard let map = value.stringMap else { return nil }; content.headers = map
            case ("metadata", _): guard let map = value.stringMap else { return nil }; content.metadata = map
            case ("tags", .array(let items)):
                var tags: [String] = []
                for case .string(let tag) in items { tags.append(tag) }
                guard tags.count == items.count else { return nil }
                content.tags = tags
            case ("track_opens", .bool(let flag)): content.trackOpens = flag
            case ("track_clicks", .bool(let flag)): content.trackClicks = flag
            default: guard other(key, value) else { return nil }
            }
        }
        guard let from, let to else { return nil }
        content.from = from
        content.to = to
        return content
    }
}

extension MessageBody {
    /// Reads a stored body (see `MessageContent.init(storageJSON:)`); nil when not of that shape.
    public init?(storageJSON bytes: some Collection<UInt8>) {
        guard case .object(let fields)? = try? JSONReader.parse(bytes) else { return nil }
        var body = MessageBody(text: nil, html: nil)
        for (key, value) in fields {
            switch (key, value) {
            case ("text", .string(let s)): body.text = s
            case ("text", .null): body.text = nil
            case ("html", .string(let s)): body.html = s
            case ("html", .null): body.html = nil
            case ("attachments", _): guard let list = MessageAttachment.list(stored: value) else { return nil }; body.attachments = list
            default: return nil
            }
        }
        self = body
    }
}

extension JSONValue {
    /// An object whose values are all strings, as a dictionary.
    var stringMap: [String: String]? {
        guard case .object(let fields) = self else { return nil }
        var map: [String: String] = [:]
        map.reserveCapacity(fields.count)
        for (key, value) in fields {
            guard case .string(let s) = value else { return nil }
            map[key] = s
        }
        return map
    }
}

extension EmailAddress {
    /// An address known to be valid (read back from storage).
    init(trusted email: String, name: String? = nil) {
        self.email = email
        self.name = name
    }

    /// `{"email":…,"name":…}` as stored.
    init?(stored value: JSONValue) {
        guard case .object(let fields) = value, case .string(let email)? = fields["email"],
            fields.keys.allSatisfy({ $0 == "email" || $0 == "name" })
        else { return nil }
        switch fields["name"] {
        case .string(let name)?: self.init(trusted: email, name: name)
        case nil, .null?: self.init(trusted: email)
        default: return nil
        }
    }

    /// A JSON array of addresses, each read by `address`; nil if any is not an address.
    static func list(_ value: JSONValue, _ address: (JSONValue) -> EmailAddress?) -> [EmailAddress]? {
        guard case .array(let items) = value else { return nil }
        var list: [EmailAddress] = []
        list.reserveCapacity(items.count)
        for item in items {
            guard let parsed = address(item) else { return nil }
            list.append(parsed)
        }
        return list
    }
}

extension MessageAttachment {
    static func list(stored value: JSONValue) -> [MessageAttachment]? {
        guard case .array(let items) = value else { return nil }
        var list: [MessageAttachment] = []
        for item in items {
            guard case .object(let fields) = item, case .string(let filename)? = fields["filename"],
                case .string(let contentType)? = fields["content_type"], case .string(let content)? = fields["content"], fields.count == 3
            else { return nil }
            list.append(MessageAttachment(filename: filename, contentType: contentType, base64: content))
        }
        return list
    }
}
