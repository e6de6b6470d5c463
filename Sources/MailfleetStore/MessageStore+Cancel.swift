import Foundation
import MailfleetCore
import MailfleetPostgres

/// Cancellation. A message can be cancelled while it is `queued` (waiting, scheduled, or
/// between retries); once a worker has claimed it (`sending`) or it is finished, it cannot.
/// The message's row lock decides a race with a claim: the claim's UPDATE and the cancel's
/// `FOR UPDATE` queue on it, and whichever comes second sees the other's status (a claim
/// skips a `cancelled` row; a cancel refuses a `sending` one). Queue entries of a cancelled
/// message may stay in Redis: the claim refuses them and the worker drops them.
extension MessageStore {
    /// What `cancel(messageID:tenantID:actor:)` did.
    public enum CancelOutcome: Sendable, Equatable {
        /// Cancelled; its queue entry, which may be dropped from Redis at once.
        case cancelled(MessageQueue.Item)
        /// It is past cancelling (in this status).
        case notCancellable(MessageStatus)
        /// The tenant has no such message.
        case notFound
    }

    /// What `cancel(batchID:tenantID:actor:)` did.
    public struct BatchCancellation: Sendable, Equatable {
        /// The messages cancelled, as queue entries.
        public var cancelled: [MessageQueue.Item]
        /// Messages of the batch already sending or finished (cancelled ones included).
        public var notCancellable: Int

        /// Creates a result.
        public init(cancelled: [MessageQueue.Item], notCancellable: Int) {
            self.cancelled = cancelled
            self.notCancellable = notCancellable
        }
    }

    /// Cancels one of the tenant's messages if it is still queued, recording a `cancelled`
    /// event and an audit entry naming `actor`.
    public func cancel(messageID: UUID, tenantID: UUID, actor: String) async throws -> CancelOutcome {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                "SELECT status, priority, next_attempt_at FROM messages WHERE id = $1 AND tenant_id = $2 FOR UPDATE", [messageID, tenantID])
            guard let row = rows.first else { return .notFound }
            let status = MessageStatus(rawValue: try row.string("status")) ?? .queued
            guard status == .queued else { return .notCancellable(status) }
            let item = MessageQueue.Item(
                id: messageID, priority: Priority(rawValue: try row.string("priority")) ?? .bulk, tenantID: tenantID,
                dueAt: try row.optionalDate("next_attempt_at"))
            try Self.markCancelled([item], tenantID: tenantID, actor: actor, batchID: nil, on: connection)
            return .cancelled(item)
        }
    }

    /// Cancels every still-queued message of the tenant's batch `batchID`; the rest are counted
    /// as not cancellable. An unknown batch cancels nothing.
    ///
    /// Rows are locked with `SKIP LOCKED`: waiting for many row locks at once, in whatever order,
    /// could deadlock with a worker's claim of some of them (which locks in its plan's order).
    /// A row skipped is being written by someone else, usually claimed; the pass repeats after
    /// a moment until no row of the batch is still queued, so none is left out. Each pass is
    /// one transaction with one statement per step, whatever the batch's size.
    public func cancel(batchID: String, tenantID: UUID, actor: String) async throws -> BatchCancellation {
        var cancelled: [MessageQueue.Item] = []
        while true {
            let (items, stillQueued, total) = try await pool.tenantTransaction(tenantID) { connection in
                let rows = try connection.query(
                    """
                    SELECT id, priority, next_attempt_at FROM messages
                    WHERE tenant_id = $1 AND batch_id = $2 AND status = 'queued' FOR UPDATE SKIP LOCKED
                    """, [tenantID, batchID])
                let items = try rows.map { row in
                    MessageQueue.Item(
                        id: try row.uuid("id"), priority: Priority(rawValue: try row.string("priority")) ?? .bulk, tenantID: tenantID,
                        dueAt: try row.optionalDate("next_attempt_at"))
                }
                try Self.markCancelled(items, tenantID: tenantID, actor: actor, batchID: batchID, on: connection)
                let counts = try connection.query(
                    "SELECT count(*) FILTER (WHERE status = 'queued') AS queued, count(*) AS total FROM messages WHERE tenant_id = $1 AND batch_id = $2",
                    [tenantID, batchID])
                return (items, try counts.first?.int("queued") ?? 0, try counts.first?.int("total") ?? 0)
            }
            cancelled += items
            if stillQueued == 0 { return BatchCancellation(cancelled: cancelled, notCancellable: total - cancelled.count) }
            // A claim holds them for the few milliseconds of its statement.
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Writes `cancelled` to locked, queued rows with their events and one audit entry.
    private static func markCancelled(
        _ items: [MessageQueue.Item], tenantID: UUID, actor: String, batchID: String?, on connection: PostgresConnection
    ) throws {
        guard !items.isEmpty else { return }
        let ids = items.map(\.id)
        try connection.query(
            "UPDATE messages SET status = 'cancelled', lease_until = NULL, updated_at = now() WHERE id = ANY($1::uuid[]) AND tenant_id = $2",
            [ids, tenantID])
        var detail = ["by": actor]
        if let batchID { detail["batch_id"] = batchID }
        try EventStore.insert(ids.map { NewEvent(tenantID: tenantID, messageID: $0, type: .cancelled, detail: detail) }, on: connection)
        var audit = ["messages": "\(ids.count)"]
        if let batchID { audit["batch_id"] = batchID }
        try AuditLog.record(
            AuditEntry(tenantID: tenantID, actor: actor, action: "message.cancelled", target: ids.count == 1 ? ids[0].lowercasedString : nil, detail: audit),
            on: connection)
    }
}
