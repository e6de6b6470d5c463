import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// Messages that should be on the queue but show no progress since `olderThan` seconds:
    /// queued and due but not enqueued recently, or `sending` under an expired lease. The
    /// scheduler enqueues them again; the claim in `claim(_:lease:)` makes a duplicate harmless.
    public func stalled(olderThan seconds: Double, limit: Int) async throws -> [(id: UUID, priority: Priority)] {
        let rows = try await pool.query(
            """
            UPDATE messages SET enqueued_at = now()
            WHERE id IN (
                SELECT id FROM messages
                WHERE status IN ('queued', 'sending') AND enqueued_at < now() - make_interval(secs => $1)
                  AND next_attempt_at <= now() AND (status = 'queued' OR lease_until < now())
                ORDER BY enqueued_at LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING id, priority
            """, [seconds, limit])
        return try rows.map { (try $0.uuid("id"), Priority(rawValue: try $0.string("priority")) ?? .bulk) }
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
