import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// A tenant's message with its events, or nil (also for another tenant's message).
    public func message(id: UUID, tenantID: UUID) async throws -> MessageRecord? {
        // Under row-level security as well as the tenant filter (TenantScope).
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT m.id, m.tenant_id, \(Self.shownStatus("m")) AS status, m.priority, m.content, b.content AS body, m.attempts, m.send_at,
                       m.created_at, m.updated_at, m.sent_at, m.last_error, m.provider_message_id, m.batch_id
                FROM messages m LEFT JOIN message_bodies b ON b.tenant_id = m.tenant_id AND b.key = m.body_key
                WHERE m.id = $1 AND m.tenant_id = $2
                """, [id, tenantID])
            guard let row = rows.first else { return nil }
            let decoder = JSONDecoder()
            var content = try Self.content(try row.string("content"), decoder)
            if let body = row.optionalString("body") {
                content = content.with(try MessageBody(storageJSON: body.utf8) ?? decoder.decode(MessageBody.self, from: Data(body.utf8)))
            }
            let message = Message(
                id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"),
                priority: Priority(rawValue: try row.string("priority")) ?? .bulk,
                status: MessageStatus(rawValue: try row.string("status")) ?? .queued,
                content: content,
                attempts: try row.int("attempts"), sendAt: try row.optionalDate("send_at"), createdAt: try row.date("created_at"),
                batchID: row.optionalString("batch_id"))
            let events = try connection.query(
                "SELECT type, detail, occurred_at FROM events WHERE message_id = $1 AND tenant_id = $2 ORDER BY occurred_at, id",
                [id, tenantID])
            // `accepted` and `sent` are status transitions the row itself records (created_at,
            // sent_at): they are shown from there rather than stored twice.
            var history = [EventRecord(type: EventType.accepted.rawValue, detail: "{}", occurredAt: message.createdAt)]
            if let sentAt = try row.optionalDate("sent_at") {
                var detail = "{}"
                if let pmid = row.optionalString("provider_message_id") { detail = "{\"provider_message_id\":\(jsonQuote(pmid))}" }
                history.append(EventRecord(type: EventType.sent.rawValue, detail: detail, occurredAt: sentAt))
            }
            for event in events {
                history.append(EventRecord(type: try event.string("type"), detail: try event.string("detail"), occurredAt: try event.date("occurred_at")))
            }
            history.sort { $0.occurredAt < $1.occurredAt }
            return MessageRecord(
                message: message, updatedAt: try row.date("updated_at"), sentAt: try row.optionalDate("sent_at"),
                lastError: row.optionalString("last_error"), providerMessageID: row.optionalString("provider_message_id"),
                events: history)
        }
    }

    /// Message counts by status, for the CLI and metrics.
    public func countsByStatus() async throws -> [String: Int] {
        let rows = try await pool.query("SELECT \(Self.shownStatus()) AS status, count(*) AS n FROM messages GROUP BY 1")
        var counts: [String: Int] = [:]
        for row in rows { counts[try row.string("status")] = try row.int("n") }
        return counts
    }
}
