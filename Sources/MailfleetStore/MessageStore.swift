import Foundation
import MailfleetCore
import MailfleetPostgres

/// Messages and their events in Postgres, the system of record. Every method that touches
/// many messages does so in one statement (arrays unnested server-side), never one round trip
/// per message.
public struct MessageStore: Sendable {
    let pool: PostgresPool

    /// `alias.id = ANY($n::uuid[])`: said again beside a join on the ids of `unnest($n ...)`,
    /// it lets the planner keep only the day partitions those ids are in (docs/ARCHITECTURE.md,
    /// "Partitions and retention"). Without it a join probes every day's index for each row.
    static func dayPruned(_ alias: String, ids parameter: Int = 1) -> String {
        "\(alias).id = ANY($\(parameter)::uuid[])"
    }

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// The status a row shows. `sending` is never stored: a claimed message keeps `queued` and
    /// carries its worker's lease in `lease_until` (set only while a worker has it), so the
    /// claim changes no indexed column and is a HOT update (docs/ARCHITECTURE.md, "Writes per
    /// message"). `alias` qualifies the columns (`m` for `m.status`). Public for the tests' own
    /// queries.
    public static func shownStatus(_ alias: String = "") -> String {
        let p = alias.isEmpty ? "" : alias + "."
        return "(CASE WHEN \(p)status = 'queued' AND \(p)lease_until IS NOT NULL THEN 'sending' ELSE \(p)status END)"
    }

    /// Stored content: read directly, or through `JSONDecoder` when it is not of the stored shape.
    static func content(_ json: String, _ decoder: JSONDecoder) throws -> MessageContent {
        if let content = MessageContent(storageJSON: json.utf8) { return content }
        return try decoder.decode(MessageContent.self, from: Data(json.utf8))
    }
}

/// A JSON string literal.
func jsonQuote(_ s: String) -> String {
    var json = JSONBytes(capacity: s.utf8.count + 2)
    json.value(s)
    return json.string
}

/// A stored body's identity: bodies are stored per tenant, keyed by their hash.
struct BodyKey: Hashable, Sendable {
    var tenantID: UUID
    var key: String
}
