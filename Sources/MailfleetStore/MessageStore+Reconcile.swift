import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// Where a reconciliation scan stands: the last message it read, by `(enqueued_at, id)`.
    public struct StalledCursor: Sendable, Equatable {
        /// The last message's `enqueued_at`.
        public let enqueuedAt: Date
        /// The last message's id.
        public let id: UUID
    }

    /// Messages that should be on the queue but show no progress since `olderThan` seconds:
    /// queued and due but not enqueued recently, or `sending` under an expired lease. Read
    /// without writing, `limit` at a time in `(enqueued_at, id)` order after `after`: most are
    /// only waiting their turn (a long backlog, a tenant held by its limit), so the caller asks
    /// Redis which it no longer holds and re-enqueues and marks only those (`markEnqueued`).
    /// `next` is where the following page starts, nil when this page ended the scan.
    public func stalled(olderThan seconds: Double, after: StalledCursor? = nil, limit: Int) async throws -> (items: [MessageQueue.Item], next: StalledCursor?) {
        let start = after ?? StalledCursor(enqueuedAt: .distantPast, id: UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
        // `status IN ('queued', 'sending')` is the predicate of `messages_unfinished`, which these
        // scans use: rows are stored `sending` only by workers older than migration 23.
        let rows = try await pool.query(
            """
            SELECT id, tenant_id, priority, enqueued_at FROM messages
            WHERE status IN ('queued', 'sending') AND enqueued_at < now() - make_interval(secs => $1)
              AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())
              AND (enqueued_at, id) > ($2::timestamptz, $3::uuid)
            ORDER BY enqueued_at, id LIMIT $4
            """, [seconds, start.enqueuedAt, start.id, limit])
        let items = try rows.map {
            MessageQueue.Item(id: try $0.uuid("id"), priority: Priority(rawValue: try $0.string("priority")) ?? .bulk, tenantID: try $0.uuid("tenant_id"))
        }
        let next = try rows.count == limit ? rows.last.map { StalledCursor(enqueuedAt: try $0.date("enqueued_at"), id: try $0.uuid("id")) } : nil
        return (items, next)
    }

    /// Marks messages enqueued now, the ones reconciliation puts back on the queue; returns
    /// those still unfinished (a message finished since it was read is not enqueued again).
    public func markEnqueued(_ ids: [UUID]) async throws -> Set<UUID> {
        guard !ids.isEmpty else { return [] }
        return Set(try await pool.query(
            "UPDATE messages SET enqueued_at = now() WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'sending') RETURNING id", [ids]
        ).map { try $0.uuid("id") })
    }

    /// Postgres's clock: a recovery's cutoff is compared with `enqueued_at`, so it must come
    /// from the clock that wrote it.
    public func databaseTime() async throws -> Date {
        guard let row = try await pool.query("SELECT now() AS now").first else { throw PostgresError(message: "SELECT now() returned no row") }
        return try row.date("now")
    }

    /// Every unfinished message last enqueued before `cutoff`, whatever its age, for a recovery
    /// from a Redis that lost its data: queued ones due at their next attempt, `sending` ones at
    /// the end of their lease (a live worker finishes it; a dead one's message goes again). Marks
    /// them enqueued now, so passes with the same cutoff move on until one finds nothing. Entries
    /// Redis still holds are duplicated; the claim makes that harmless.
    public func unfinished(enqueuedBefore cutoff: Date, limit: Int) async throws -> [MessageQueue.Item] {
        let rows = try await pool.query(
            """
            UPDATE messages SET enqueued_at = now()
            WHERE id IN (
                SELECT id FROM messages
                WHERE status IN ('queued', 'sending') AND enqueued_at < $1
                ORDER BY enqueued_at LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, priority, GREATEST(next_attempt_at, lease_until) AS due_at
            """, [cutoff, limit])
        return try rows.map {
            MessageQueue.Item(
                id: try $0.uuid("id"), priority: Priority(rawValue: try $0.string("priority")) ?? .bulk, tenantID: try $0.uuid("tenant_id"),
                dueAt: try $0.date("due_at"))
        }
    }

    /// Deletes idempotency keys older than 24 h, at most `limit` at a time; returns how many.
    @discardableResult
    public func purgeExpiredIdempotencyKeys(limit: Int = 10_000) async throws -> Int {
        try await pool.query(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT $1)
            """, [limit]).affectedRows
    }
}

extension MessageStore {
    /// The tenant's messages among `ids` that are still `queued`, as queue items due at their
    /// next attempt: what an idempotent replay enqueues again, in case the request it replays
    /// committed and died before its own enqueue. A read only: `enqueued_at` stays, so replays
    /// while Redis is down do not push back the reconciliation that would enqueue them then.
    public func stillQueued(tenantID: UUID, ids: [UUID]) async throws -> [MessageQueue.Item] {
        guard !ids.isEmpty else { return [] }
        let rows = try await pool.query(
            """
            SELECT id, priority, next_attempt_at FROM messages
            WHERE tenant_id = $1 AND id = ANY($2::uuid[]) AND status = 'queued'
            """, [tenantID, ids])
        return try rows.map {
            MessageQueue.Item(
                id: try $0.uuid("id"), priority: Priority(rawValue: try $0.string("priority")) ?? .bulk, tenantID: tenantID,
                dueAt: try $0.date("next_attempt_at"))
        }
    }
}
