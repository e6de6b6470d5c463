import Foundation
import MailfleetCore
import MailfleetPostgres

/// Dead letters: Postgres is their record. A dead letter is a message in status `failed`, with
/// its reason in `last_error` and the time it failed in `updated_at` (a failed row is not
/// updated again until it is re-driven; migration 5 indexes failed rows by it). Nothing of them
/// stays in Redis: dead-lettering only removes the entry from its lease.
extension MessageStore {
    /// What `retry(messageID:tenantID:actor:)` did.
    public enum RetryOutcome: Sendable, Equatable {
        /// Re-driven: queued again; the entry to put on the queue.
        case redriven(MessageQueue.Item)
        /// The message is not failed (it is in this status), so there is nothing to re-drive.
        case notFailed(MessageStatus)
        /// The tenant has no such message.
        case notFound
    }

    /// Dead letters matching `filter`, most recently failed first, with their content (the
    /// envelope) and no events. `updatedAt` of each record is when it failed.
    public func deadLetters(matching filter: DeadLetterFilter, limit: Int) async throws -> [MessageRecord] {
        let rows = try await pool.query(
            """
            SELECT id, tenant_id, status, priority, content, attempts, send_at, created_at, updated_at, sent_at, last_error, provider_message_id, batch_id
            FROM messages WHERE \(Self.deadLetterCondition)
            ORDER BY updated_at DESC, id DESC LIMIT $6
            """, Self.parameters(filter) + [limit])
        let decoder = JSONDecoder()
        return try rows.map { try Self.recordWithoutEvents($0, decoder) }
    }

    /// How many dead letters match `filter` (all of them for an empty one).
    public func countDeadLetters(matching filter: DeadLetterFilter = DeadLetterFilter()) async throws -> Int {
        let rows = try await pool.query("SELECT count(*) AS n FROM messages WHERE \(Self.deadLetterCondition)", Self.parameters(filter))
        return try rows.first?.int("n") ?? 0
    }

    /// The tenant a message belongs to, whatever its status; nil when there is no such message.
    /// For the CLI, which names messages by id alone.
    public func tenant(ofMessage id: UUID) async throws -> UUID? {
        try await pool.query("SELECT tenant_id FROM messages WHERE id = $1", [id]).first.map { try $0.uuid("tenant_id") }
    }

    /// Re-drives one batch of up to `limit` dead letters matching `filter`, in one transaction:
    /// each goes back to `queued`, due now, with its attempts reset to 0 and its error moved
    /// into a `redriven` event; an audit entry per tenant records the batch. Returns the entries
    /// to enqueue, which the caller puts on the queue after this commits (a crash between the
    /// two leaves them queued in Postgres, where reconciliation finds them).
    ///
    /// Rows another transaction holds (a concurrent re-drive, the retention purge) are skipped,
    /// and a message already re-driven is no longer failed: running it again is harmless.
    /// Bound the filter by the re-drive's start (`DeadLetterFilter.failed(before:)`) so a
    /// message that fails again meanwhile is not taken twice.
    public func redriveDeadLetters(matching filter: DeadLetterFilter, limit: Int, actor: String) async throws -> [MessageQueue.Item] {
        try await pool.transaction { connection in try Self.redrive(filter, limit: limit, actor: actor, on: connection) }
    }

    /// Re-drives one of a tenant's messages if it is failed (the API's retry), under the
    /// tenant's row-level security, with the same event and audit entry as the CLI's re-drive.
    public func retry(messageID: UUID, tenantID: UUID, actor: String) async throws -> RetryOutcome {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query("SELECT \(Self.shownStatus()) AS status FROM messages WHERE id = $1 AND tenant_id = $2 FOR UPDATE", [messageID, tenantID])
            guard let row = rows.first else { return .notFound }
            let status = MessageStatus(rawValue: try row.string("status")) ?? .queued
            guard status == .failed else { return .notFailed(status) }
            let items = try Self.redrive(DeadLetterFilter(tenantID: tenantID, ids: [messageID]), limit: 1, actor: actor, on: connection)
            return items.first.map(RetryOutcome.redriven) ?? .notFailed(status)
        }
    }

    /// Deletes up to `limit` dead letters that failed more than `days` days ago, with their
    /// events, in one statement; returns how many messages went. Bodies stay: they are shared
    /// by every message of the tenant with the same content (see `message_bodies`). Messages of
    /// a campaign not yet done or cancelled stay too: an A/B test's winner pass knows who
    /// already had a message by the messages themselves.
    @discardableResult
    public func purgeDeadLetters(olderThanDays days: Int, limit: Int = 5000) async throws -> Int {
        try await pool.query(
            """
            WITH doomed AS (
                SELECT id FROM messages
                WHERE status = 'failed' AND updated_at < now() - make_interval(days => $1)
                  AND (campaign_id IS NULL OR NOT EXISTS (
                      SELECT 1 FROM campaigns k WHERE k.id = messages.campaign_id AND k.state NOT IN ('done', 'cancelled')))
                ORDER BY updated_at LIMIT $2
                FOR UPDATE SKIP LOCKED
            ), events_gone AS (
                DELETE FROM events e USING doomed d WHERE e.message_id = d.id
            )
            DELETE FROM messages m USING doomed d WHERE m.id = d.id
            """, [days, limit]).affectedRows
    }

    // MARK: Statements

    /// The dead letters `parameters(_:)` select: $1 tenant, $2 reason, $3 since, $4 until, $5 ids
    /// (each NULL when not filtered on).
    static let deadLetterCondition = """
        status = 'failed'
          AND ($1::uuid IS NULL OR tenant_id = $1::uuid)
          AND ($2::text IS NULL OR strpos(lower(last_error), lower($2::text)) > 0)
          AND ($3::timestamptz IS NULL OR updated_at >= $3::timestamptz)
          AND ($4::timestamptz IS NULL OR updated_at < $4::timestamptz)
          AND ($5::uuid[] IS NULL OR id = ANY($5::uuid[]))
        """

    static func parameters(_ filter: DeadLetterFilter) -> [any PostgresEncodable] {
        [filter.tenantID, filter.reason, filter.since, filter.until, filter.ids]
    }

    static func redrive(_ filter: DeadLetterFilter, limit: Int, actor: String, on connection: PostgresConnection) throws -> [MessageQueue.Item] {
        let rows = try connection.query(
            """
            WITH batch AS (
                SELECT id, last_error, attempts FROM messages WHERE \(deadLetterCondition)
                ORDER BY updated_at, id LIMIT $6
                FOR UPDATE SKIP LOCKED
            )
            UPDATE messages m SET status = 'queued', attempts = 0, last_error = NULL, next_attempt_at = now(), redriven_at = now(),
                held_seconds = 0, held_since = NULL, enqueued_at = now(), lease_until = NULL, updated_at = now()
            FROM batch b WHERE m.id = b.id
            RETURNING m.id, m.tenant_id, m.priority, b.last_error, b.attempts
            """, parameters(filter) + [limit])
        guard !rows.isEmpty else { return [] }
        var items: [MessageQueue.Item] = []
        var events: [NewEvent] = []
        var perTenant: [UUID: [UUID]] = [:]
        for row in rows {
            let id = try row.uuid("id"), tenantID = try row.uuid("tenant_id")
            items.append(MessageQueue.Item(id: id, priority: Priority(rawValue: try row.string("priority")) ?? .bulk, tenantID: tenantID))
            events.append(NewEvent(
                tenantID: tenantID, messageID: id, type: .redriven,
                detail: ["reason": row.optionalString("last_error") ?? "", "attempts": try row.string("attempts"), "by": actor]))
            perTenant[tenantID, default: []].append(id)
        }
        try EventStore.insert(events, on: connection)
        for (tenantID, ids) in perTenant {
            try AuditLog.record(
                AuditEntry(
                    tenantID: tenantID, actor: actor, action: "message.redriven", target: ids.count == 1 ? ids[0].lowercasedString : nil,
                    detail: ["messages": "\(ids.count)", "filter": filter.description]),
                on: connection)
        }
        return items
    }

    /// A message row as a record without events.
    static func recordWithoutEvents(_ row: PostgresRow, _ decoder: JSONDecoder) throws -> MessageRecord {
        let message = Message(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"),
            priority: Priority(rawValue: try row.string("priority")) ?? .bulk,
            status: MessageStatus(rawValue: try row.string("status")) ?? .queued,
            content: try content(try row.string("content"), decoder),
            attempts: try row.int("attempts"), sendAt: try row.optionalDate("send_at"), createdAt: try row.date("created_at"),
            batchID: row.optionalString("batch_id"))
        return MessageRecord(
            message: message, updatedAt: try row.date("updated_at"), sentAt: try row.optionalDate("sent_at"),
            lastError: row.optionalString("last_error"), providerMessageID: row.optionalString("provider_message_id"), events: [])
    }
}
