import Foundation

/// A `multipart/form-data` body (RFC 7578): text fields in the order they were added, then
/// file parts.
public struct MultipartFormData: Sendable, Equatable {
    /// The fields, names may repeat (Mailgun takes one `to` field per recipient).
    public private(set) var fields: [(name: String, value: String)] = []
    /// File parts, after the text fields: field name, file name, media type, bytes.
    public private(set) var files: [(name: String, filename: String, contentType: String, data: Data)] = []
    /// The boundary between parts.
    public let boundary: String

    /// Creates an empty form with a random boundary (or the given one, for tests).
    public init(boundary: String = "mf-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()) {
        self.boundary = boundary
    }

    /// Adds a text field.
    public mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Adds a file part.
    public mutating func appendFile(_ name: String, filename: String, contentType: String, data: Data) {
        files.append((name, filename, contentType, data))
    }

    /// The values of every field with this name.
    public func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    /// The `Content-Type` header value.
    public var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    /// The encoded body.
    public var body: [UInt8] {
        var out = ""
        for field in fields {
            // Field names are ours (ASCII tokens); quotes and line breaks would end the header.
            let name = field.name.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
            out += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n"
            out += "Content-Type: text/plain; charset=utf-8\r\n\r\n\(field.value)\r\n"
        }
        var bytes = Array(out.utf8)
        for file in files {
            // RFC 7578 §4.2: a non-ASCII file name is sent as UTF-8 in the quoted string.
            let filename = file.filename.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D")
                .replacingOccurrences(of: "\n", with: "%0A")
            let head = "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(filename)\"\r\n"
                + "Content-Type: \(file.contentType)\r\n\r\n"
            bytes += Array(head.utf8) + Array(file.data) + Array("\r\n".utf8)
        }
        bytes += Array("--\(boundary)--\r\n".utf8)
        return bytes
    }

    public static func == (lhs: MultipartFormData, rhs: MultipartFormData) -> Bool {
        lhs.boundary == rhs.boundary && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
            && lhs.files.elementsEqual(rhs.files) { $0.name == $1.name && $0.filename == $1.filename && $0.data == $1.data }
    }
}
