import Crypto
import Foundation

/// The heavy, usually shared part of a message: its bodies and attachments.
///
/// A bulk campaign sends one body to many recipients, so storage keeps each distinct body once
/// (per tenant, keyed by `storageKey`) and each message row holds only its envelope (sender,
/// recipients, subject, headers, metadata) and the key. Rows stay narrow, so claiming and
/// recording a send rewrite a few hundred bytes instead of the whole body.
public struct MessageBody: Sendable, Hashable, Codable {
    /// The plain-text body.
    public var text: String?
    /// The HTML body.
    public var html: String?
    /// Attached files.
    public var attachments: [MessageAttachment]

    /// Creates a body.
    public init(text: String?, html: String?, attachments: [MessageAttachment] = []) {
        self.text = text
        self.html = html
        self.attachments = attachments
    }

    enum CodingKeys: String, CodingKey {
        case text, html, attachments
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        text = try c.decodeIfPresent(String.self, forKey: .text)
        html = try c.decodeIfPresent(String.self, forKey: .html)
        attachments = try c.decodeIfPresent([MessageAttachment].self, forKey: .attachments) ?? []
    }

    /// The storage key of an encoded body: the hex SHA-256 of its JSON.
    public static func storageKey(ofEncoded json: some DataProtocol) -> String {
        Hex.encode(SHA256.hash(data: json))
    }
}

extension MessageContent {
    /// The body part of this content.
    public var body: MessageBody {
        MessageBody(text: text, html: html, attachments: attachments)
    }

    /// This content without its body (what a message row stores beside the body's key).
    public var envelope: MessageContent {
        var copy = self
        copy.text = nil
        copy.html = nil
        copy.attachments = []
        return copy
    }

    /// This content with the given body.
    public func with(_ body: MessageBody) -> MessageContent {
        var copy = self
        copy.text = body.text
        copy.html = body.html
        copy.attachments = body.attachments
        return copy
    }
}
