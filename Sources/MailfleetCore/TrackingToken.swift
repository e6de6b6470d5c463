import Crypto
import Foundation

/// What a tracking link or pixel stands for, signed so nobody can forge events or turn the
/// click redirector into an open redirect.
public struct TrackingToken: Sendable, Equatable, Codable {
    /// Open pixel, click redirect or one-click unsubscribe.
    public enum Kind: String, Sendable, Codable {
        /// The open pixel.
        case open = "o"
        /// A tracked link.
        case click = "c"
        /// The List-Unsubscribe link (RFC 8058).
        case unsubscribe = "u"
    }

    /// Open, click or unsubscribe.
    public var kind: Kind
    /// The message the event belongs to.
    public var messageID: UUID
    /// The message's tenant.
    public var tenantID: UUID
    /// For clicks: where to send the reader.
    public var url: String?
    /// For unsubscribes: the address to suppress (bulk bodies are shared, so it travels in the token).
    public var recipient: String?
    // Milliseconds since 1970: an open or click this soon after the send is a scanner's, and the
    // tracker learns the time without a query. Tokens signed before it existed carry none.
    private var sentMilliseconds: Int64?

    /// Creates a token.
    public init(kind: Kind, messageID: UUID, tenantID: UUID, url: String? = nil, recipient: String? = nil, sentAt: Date? = nil) {
        self.kind = kind
        self.messageID = messageID
        self.tenantID = tenantID
        self.url = url
        self.recipient = recipient
        self.sentMilliseconds = sentAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
    }

    /// When the worker rendered the message for its send, or nil for tokens that do not say.
    public var sentAt: Date? {
        sentMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    enum CodingKeys: String, CodingKey {
        case kind = "k", messageID = "m", tenantID = "t", url = "u", recipient = "r", sentMilliseconds = "s"
    }

    /// The signed payload: the `Codable` form's keys, in the order `JSONEncoder`'s `sortedKeys`
    /// writes them, written directly (a worker signs every tracking URL of a round, and
    /// `JSONEncoder` cost more than the MAC). `JSONDecoder` reads it back as the same token.
    public var payloadJSON: [UInt8] {
        var json = JSONBytes(capacity: 160)
        json.beginObject()
        json.key("k")
        json.value(kind.rawValue)
        json.key("m")
        json.value(messageID.uuidString)
        if let recipient {
            json.key("r")
            json.value(recipient)
        }
        if let sentMilliseconds {
            json.key("s")
            json.value(Int(sentMilliseconds))
        }
        json.key("t")
        json.value(tenantID.uuidString)
        if let url {
            json.key("u")
            json.value(url)
        }
        json.endObject()
        return json.bytes
    }
}

/// Signs and verifies tracking tokens with HMAC-SHA256: `base64url(payload).base64url(mac)`.
public struct TrackingSigner: Sendable {
    private let key: SymmetricKey

    /// Creates a signer from the fleet's tracking secret.
    public init(secret: String) {
        key = SymmetricKey(data: Data(secret.utf8))
    }

    /// The URL-safe signed form of a token.
    public func sign(_ token: TrackingToken) -> String {
        let payload = Base64URL.encode(Data(token.payloadJSON))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Base64URL.encode(Data(mac))
    }

    /// The token a signed string stands for, or nil when it is malformed or its MAC is wrong.
    public func verify(_ signed: String) -> TrackingToken? {
        let parts = signed.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(String(parts[1])),
              let payload = Base64URL.decode(String(parts[0])) else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key) else { return nil }
        return try? JSONDecoder().decode(TrackingToken.self, from: payload)
    }
}

/// Base64 with the URL alphabet and no padding (RFC 4648 §5).
public enum Base64URL {
    /// Encodes bytes.
    public static func encode(_ data: Data) -> String {
        // Byte by byte, like `decode`: string replacements went through CFStringFind (a tenth
        // of a worker's samples, signing every tracking URL of a round).
        var bytes = [UInt8]()
        bytes.reserveCapacity((data.count + 2) / 3 * 4)
        for byte in data.base64EncodedData() {
            switch byte {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Decodes text, or nil when it is not base64url.
    public static func decode(_ text: String) -> Data? {
        // Byte by byte: every open and click decodes two of these, and the string replacements
        // this replaced went through CFStringFind (15 % of the tracker's samples under load).
        var bytes = [UInt8]()
        bytes.reserveCapacity(text.utf8.count + 3)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "="): return nil
            case UInt8(ascii: "-"): bytes.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): bytes.append(UInt8(ascii: "/"))
            default: bytes.append(byte)
            }
        }
        while bytes.count % 4 != 0 { bytes.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(bytes))
    }
}
