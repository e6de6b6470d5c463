import Foundation

/// Reads an accept answer the API stored with its idempotency key.
public enum StoredAnswer {
    /// The ids of the messages an answer accepted: `{"id":…}` for a single send, the `id` of
    /// each item of `{"messages":[…]}` for a batch (items that failed have none). Anything
    /// else (an error answer, bad JSON) names no message.
    public static func messageIDs(in body: String) -> [UUID] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] else { return [] }
        if let id = (object["id"] as? String).flatMap(UUID.init(uuidString:)) { return [id] }
        guard let items = object["messages"] as? [[String: Any]] else { return [] }
        return items.compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
    }
}
