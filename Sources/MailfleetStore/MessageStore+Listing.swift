import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// A page of a tenant's messages, newest first, optionally of one status, after `cursor`
    /// (the previous page's last); each with the cursor that continues after it. Under the
    /// tenant's row-level security as well as the tenant filter. Failed ones have an index of
    /// their own (migration 5); the others walk the tenant's messages by creation time.
    public func messages(
        tenantID: UUID, status: MessageStatus?, after cursor: MessageCursor?, limit: Int
    ) async throws -> [(record: MessageRecord, cursor: MessageCursor)] {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT id, tenant_id, \(Self.shownStatus()) AS status, priority, content, attempts, send_at, created_at, updated_at, sent_at, last_error,
                       provider_message_id, batch_id, (extract(epoch FROM created_at) * 1000000)::bigint AS created_us
                FROM messages
                WHERE tenant_id = $1 AND ($2::text IS NULL OR \(Self.shownStatus()) = $2::text)
                  AND ($3::bigint IS NULL OR (created_at, id) < ('epoch'::timestamptz + $3::bigint * interval '1 microsecond', $4::uuid))
                ORDER BY created_at DESC, id DESC LIMIT $5
                """, [tenantID, status?.rawValue, cursor.map { Int($0.createdAtMicroseconds) }, cursor?.id, limit])
            let decoder = JSONDecoder()
            return try rows.map { row in
                let record = try Self.recordWithoutEvents(row, decoder)
                return (record, MessageCursor(createdAtMicroseconds: Int64(try row.int("created_us")), id: record.message.id))
            }
        }
    }
}
