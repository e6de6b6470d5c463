import Foundation

/// The providers' own webhook samples in `../shared/conformance/vectors` (SOURCES.md there says
/// where each comes from).
enum WebhookVectors {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/vectors")

    /// The bytes of a vector file, e.g. `sendgrid/sendgrid_python_eventwebhook.body`.
    static func bytes(_ path: String) throws -> [UInt8] {
        Array(try Data(contentsOf: folder.appendingPathComponent(path)))
    }

    /// A vector file as text.
    static func text(_ path: String) throws -> String {
        String(decoding: try bytes(path), as: UTF8.self)
    }

    /// A JSON object vector.
    static func object(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try bytes(path))) as! [String: Any]
    }
}
