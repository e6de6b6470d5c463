import Foundation

/// A file attached to a message: its name, media type and bytes (base64 in JSON and storage).
public struct MessageAttachment: Sendable, Hashable, Codable {
    /// The file name shown to the recipient (any Unicode; encoded per RFC 2231 when needed).
    public var filename: String
    /// The media type, e.g. `application/pdf`.
    public var contentType: String
    /// The bytes, base64-encoded.
    public var content: String

    /// Creates an attachment from its bytes.
    public init(filename: String, contentType: String, data: Data) {
        self.filename = filename
        self.contentType = contentType
        self.content = data.base64EncodedString()
    }

    /// The decoded bytes.
    /// An attachment whose content is already base64 (read back from storage).
    init(filename: String, contentType: String, base64: String) {
        self.filename = filename
        self.contentType = contentType
        self.content = base64
    }

    public var data: Data { Data(base64Encoded: content, options: .ignoreUnknownCharacters) ?? Data() }

    enum CodingKeys: String, CodingKey {
        case filename, content
        case contentType = "content_type"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filename = try c.decode(String.self, forKey: .filename)
        contentType = try c.decodeIfPresent(String.self, forKey: .contentType) ?? "application/octet-stream"
        content = try c.decode(String.self, forKey: .content)
        guard !filename.isEmpty, !filename.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
            throw DecodingError.dataCorruptedError(forKey: .filename, in: c, debugDescription: "filename must be non-empty, without CR, LF or NUL")
        }
        // type "/" subtype, tokens only: it goes into a header verbatim.
        let token = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let parts = contentType.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(token.contains) }) else {
            throw DecodingError.dataCorruptedError(forKey: .contentType, in: c, debugDescription: "content_type must be a media type such as application/pdf")
        }
        guard Data(base64Encoded: content) != nil else {
            throw DecodingError.dataCorruptedError(forKey: .content, in: c, debugDescription: "content must be base64")
        }
    }
}
