import Foundation
import MailfleetCore
import MailfleetPostgres

/// One event of a tenant's listing.
public struct ListedEvent: Sendable, Equatable {
    /// The event's id.
    public var id: Int64
    /// The message it belongs to.
    public var messageID: UUID
    /// The event type.
    public var type: String
    /// Details as JSON text.
    public var detail: String
    /// When it happened.
    public var occurredAt: Date
    /// The cursor that continues after it.
    public var cursor: EventCursor
}

extension MessageStore {
    /// A page of a tenant's events, newest first: of the given types (all when empty), at or
    /// after `since` and before `until`, after `cursor` (the previous page's last). Under the
    /// tenant's row-level security as well as the tenant filter; walks `events_tenant_time`.
    public func events(
        tenantID: UUID, types: [EventType], since: Date?, until: Date?, after cursor: EventCursor?, limit: Int
    ) async throws -> [ListedEvent] {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT id, message_id, type, detail::text AS detail, occurred_at,
                       (extract(epoch FROM occurred_at) * 1000000)::bigint AS occurred_us
                FROM events
                WHERE tenant_id = $1
                  AND (cardinality($2::text[]) = 0 OR type = ANY($2::text[]))
                  AND ($3::timestamptz IS NULL OR occurred_at >= $3::timestamptz)
                  AND ($4::timestamptz IS NULL OR occurred_at < $4::timestamptz)
                  AND ($5::bigint IS NULL OR (occurred_at, id) < ('epoch'::timestamptz + $5::bigint * interval '1 microsecond', $6::bigint))
                ORDER BY occurred_at DESC, id DESC LIMIT $7
                """,
                [tenantID, types.map(\.rawValue), since, until, cursor.map { Int($0.occurredAtMicroseconds) }, cursor.map { Int($0.id) }, limit])
            return try rows.map { row in
                let id = Int64(try row.int("id"))
                return ListedEvent(
                    id: id, messageID: try row.uuid("message_id"), type: try row.string("type"), detail: try row.string("detail"),
                    occurredAt: try row.date("occurred_at"), cursor: EventCursor(occurredAtMicroseconds: Int64(try row.int("occurred_us")), id: id))
            }
        }
    }
}
