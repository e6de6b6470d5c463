/// A small JSON writer into a byte buffer, for the shapes written on the hot path (stored
/// envelopes and bodies). Foundation's `JSONEncoder` builds an intermediate tree of boxed
/// values per field; writing bytes directly is several times cheaper, and the output is
/// deterministic (object keys in the order written, maps sorted), which body keys rely on.
public struct JSONBytes {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// An empty writer.
    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The output as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Opens an object (as a value, or at the top level).
    public mutating func beginObject() {
        comma()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    /// Closes an object.
    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Opens an array.
    public mutating func beginArray() {
        comma()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    /// Closes an array.
    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; the value follows.
    public mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes an object key given at run time (map keys); the value follows.
    public mutating func key(_ name: String) {
        value(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a string value.
    public mutating func value(_ string: String) {
        comma()
        var copy = string
        copy.withUTF8 { appendQuoted($0) }
        needsComma = true
    }

    /// Writes a boolean value.
    public mutating func value(_ flag: Bool) {
        comma()
        bytes.append(contentsOf: flag ? Self.trueBytes : Self.falseBytes)
        needsComma = true
    }

    /// Writes an integer value.
    public mutating func value(_ number: Int) {
        comma()
        bytes.append(contentsOf: String(number).utf8)
        needsComma = true
    }

    /// Writes a string map as an object, keys sorted.
    public mutating func value(_ map: [String: String]) {
        beginObject()
        for (k, v) in map.sorted(by: { $0.key < $1.key }) {
            key(k)
            value(v)
        }
        endObject()
    }

    /// Writes an array of strings.
    public mutating func value(_ strings: [String]) {
        beginArray()
        for s in strings { value(s) }
        endArray()
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    private mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    /// Appends a quoted string: runs that need no escaping are copied whole.
    private mutating func appendQuoted(_ source: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        for i in 0..<source.count {
            let byte = source[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            if runStart < i { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart..<i])) }
            runStart = i + 1
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigits[Int(byte >> 4)], Self.hexDigits[Int(byte & 0xF)]])
            }
        }
        if runStart < source.count { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: source[runStart...])) }
        bytes.append(UInt8(ascii: "\""))
    }
}

extension EmailAddress {
    /// Writes `{"email":…,"name":…}` (the shape `init(from:)` reads).
    public func write(to json: inout JSONBytes) {
        json.beginObject()
        json.key("email")
        json.value(email)
        if let name {
            json.key("name")
            json.value(name)
        }
        json.endObject()
    }
}

extension MessageContent {
    /// The stored JSON of this content, the shape `init(from:)` reads (only what is set).
    public var storageJSON: [UInt8] {
        var json = JSONBytes(capacity: 256 + (text?.utf8.count ?? 0) + (html?.utf8.count ?? 0))
        json.beginObject()
        json.key("from")
        from.write(to: &json)
        json.key("to")
        Self.write(to, into: &json)
        if !cc.isEmpty {
            json.key("cc")
            Self.write(cc, into: &json)
        }
        if !bcc.isEmpty {
            json.key("bcc")
            Self.write(bcc, into: &json)
        }
        if let replyTo {
            json.key("reply_to")
            replyTo.write(to: &json)
        }
        json.key("subject")
        json.value(subject)
        MessageBody(text: text, html: html, attachments: attachments).writeFields(to: &json)
        if !headers.isEmpty {
            json.key("headers")
            json.value(headers)
        }
        if !metadata.isEmpty {
            json.key("metadata")
            json.value(metadata)
        }
        if !tags.isEmpty {
            json.key("tags")
            json.value(tags)
        }
        if trackOpens {
            json.key("track_opens")
            json.value(true)
        }
        if trackClicks {
            json.key("track_clicks")
            json.value(true)
        }
        json.endObject()
        return json.bytes
    }

    private static func write(_ addresses: [EmailAddress], into json: inout JSONBytes) {
        json.beginArray()
        for address in addresses { address.write(to: &json) }
        json.endArray()
    }
}

extension MessageBody {
    /// The stored JSON of this body, the shape `init(from:)` reads; equal bodies give equal
    /// bytes, which is what their storage key hashes.
    public var storageJSON: [UInt8] {
        var json = JSONBytes(capacity: 64 + (text?.utf8.count ?? 0) + (html?.utf8.count ?? 0))
        json.beginObject()
        writeFields(to: &json)
        json.endObject()
        return json.bytes
    }

    fileprivate func writeFields(to json: inout JSONBytes) {
        if let text {
            json.key("text")
            json.value(text)
        }
        if let html {
            json.key("html")
            json.value(html)
        }
        if !attachments.isEmpty {
            json.key("attachments")
            json.beginArray()
            for attachment in attachments {
                json.beginObject()
                json.key("filename")
                json.value(attachment.filename)
                json.key("content_type")
                json.value(attachment.contentType)
                json.key("content")
                json.value(attachment.content)
                json.endObject()
            }
            json.endArray()
        }
    }
}
