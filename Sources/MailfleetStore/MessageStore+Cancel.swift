import Foundation
import MailfleetCore
import MailfleetPostgres

/// Cancellation. A message `queued` (waiting, scheduled, or between retries) is cancelled at
/// once. One a worker has claimed (`sending`: about to be sent, or looked at again while a hold
/// lasts) gets a cancel request on its row, which the worker's next write honours unless it is a
/// send: a hold, a retry or a deferral becomes `cancelled`, and a claim cancels a requested
/// message instead of handing it out. Only a message already in its provider round is still
/// sent. The message's row lock decides every race: the claim's and outcome writes' UPDATEs and
/// the cancel's `FOR UPDATE` queue on it, and whichever comes second sees the other's work.
/// Queue entries of a cancelled message may stay in Redis: the claim refuses them and the
/// worker drops them.
extension MessageStore {
    /// What `cancel(messageID:tenantID:actor:)` did.
    public enum CancelOutcome: Sendable, Equatable {
        /// Cancelled; its queue entry, which may be dropped from Redis at once.
        case cancelled(MessageQueue.Item)
        /// A worker has it: the cancel is recorded on it (now or by an earlier call) and is
        /// honoured unless its provider call had started; the outcome follows.
        case requested
        /// It is past cancelling (in this status).
        case notCancellable(MessageStatus)
        /// The tenant has no such message.
        case notFound
    }

    /// What `cancel(batchID:tenantID:actor:)` did.
    public struct BatchCancellation: Sendable, Equatable {
        /// The messages cancelled, as queue entries.
        public var cancelled: [MessageQueue.Item]
        /// Messages of the batch a worker had, asked to be cancelled (by this call or an earlier
        /// one): each ends cancelled, or sent if its provider call had started.
        public var requested: Int
        /// Messages of the batch finished (cancelled ones included).
        public var notCancellable: Int

        /// Creates a result.
        public init(cancelled: [MessageQueue.Item], requested: Int = 0, notCancellable: Int) {
            self.cancelled = cancelled
            self.requested = requested
            self.notCancellable = notCancellable
        }
    }

    /// Cancels one of the tenant's messages if it is still queued, recording a `cancelled`
    /// event and an audit entry naming `actor`; asks for its cancellation if a worker has it.
    public func cancel(messageID: UUID, tenantID: UUID, actor: String) async throws -> CancelOutcome {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT \(Self.shownStatus()) AS status, priority, next_attempt_at, cancel_requested_at IS NOT NULL AS requested
                FROM messages WHERE id = $1 AND tenant_id = $2 FOR UPDATE
                """, [messageID, tenantID])
            guard let row = rows.first else { return .notFound }
            let status = MessageStatus(rawValue: try row.string("status")) ?? .queued
            if status == .sending {
                if try !row.bool("requested") {
                    try Self.requestCancel([messageID], tenantID: tenantID, actor: actor, batchID: nil, on: connection)
                }
                return .requested
            }
            guard status == .queued else { return .notCancellable(status) }
            let item = MessageQueue.Item(
                id: messageID, priority: Priority(rawValue: try row.string("priority")) ?? .bulk, tenantID: tenantID,
                dueAt: try row.optionalDate("next_attempt_at"))
            try Self.markCancelled([item], tenantID: tenantID, actor: actor, batchID: nil, on: connection)
            return .cancelled(item)
        }
    }

    /// Cancels every still-queued message of the tenant's batch `batchID` and asks for the
    /// cancellation of those a worker has; the rest are counted as not cancellable. An unknown
    /// batch cancels nothing.
    ///
    /// Rows are locked with `SKIP LOCKED`: waiting for many row locks at once, in whatever order,
    /// could deadlock with a worker's claim or outcome write of some of them (which lock in their
    /// plan's order). A row skipped is being written by someone else; the pass repeats after a
    /// moment until every row of the batch is finished, cancelled or requested, so none is left
    /// out. Each pass is one transaction with one statement per step, whatever the batch's size.
    public func cancel(batchID: String, tenantID: UUID, actor: String) async throws -> BatchCancellation {
        var cancelled: [MessageQueue.Item] = []
        var requested: Set<UUID> = []
        while true {
            let (items, asked, open, total) = try await pool.tenantTransaction(tenantID) { connection in
                let rows = try connection.query(
                    """
                    SELECT id, \(Self.shownStatus()) AS status, priority, next_attempt_at FROM messages
                    WHERE tenant_id = $1 AND batch_id = $2 AND \(Self.stillOpen)
                    FOR UPDATE SKIP LOCKED
                    """, [tenantID, batchID])
                var items: [MessageQueue.Item] = [], sending: [UUID] = []
                for row in rows {
                    let id = try row.uuid("id")
                    if try row.string("status") == MessageStatus.sending.rawValue {
                        sending.append(id)
                        continue
                    }
                    items.append(MessageQueue.Item(
                        id: id, priority: Priority(rawValue: try row.string("priority")) ?? .bulk, tenantID: tenantID,
                        dueAt: try row.optionalDate("next_attempt_at")))
                }
                try Self.markCancelled(items, tenantID: tenantID, actor: actor, batchID: batchID, on: connection)
                try Self.requestCancel(sending, tenantID: tenantID, actor: actor, batchID: batchID, on: connection)
                // Requests made earlier (or by this call) that a worker has not answered yet count as requested.
                let asked = try connection.query(
                    "SELECT id FROM messages WHERE tenant_id = $1 AND batch_id = $2 AND \(Self.requestedInFlight)",
                    [tenantID, batchID]).map { try $0.uuid("id") }
                let counts = try connection.query(
                    """
                    SELECT count(*) FILTER (WHERE \(Self.stillOpen)) AS open,
                        count(*) AS total
                    FROM messages WHERE tenant_id = $1 AND batch_id = $2
                    """, [tenantID, batchID])
                return (items, asked, try counts.first?.int("open") ?? 0, try counts.first?.int("total") ?? 0)
            }
            cancelled += items
            requested.formUnion(asked)
            if open == 0 {
                requested.subtract(cancelled.map(\.id))
                return BatchCancellation(cancelled: cancelled, requested: requested.count, notCancellable: total - cancelled.count - requested.count)
            }
            // A claim or an outcome write holds them for the few milliseconds of its statement.
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A batch's rows a cancel still has to act on: queued and waiting, or `sending` (queued under
    /// a lease) with no request yet.
    private static let stillOpen = "status = 'queued' AND (lease_until IS NULL OR cancel_requested_at IS NULL)"
    /// A batch's rows a worker has that carry a cancel request it has not answered yet.
    private static let requestedInFlight = "status = 'queued' AND lease_until IS NOT NULL AND cancel_requested_at IS NOT NULL"

    /// Writes `cancelled` to locked, queued rows with their events and one audit entry.
    private static func markCancelled(
        _ items: [MessageQueue.Item], tenantID: UUID, actor: String, batchID: String?, on connection: PostgresConnection
    ) throws {
        guard !items.isEmpty else { return }
        let ids = items.map(\.id)
        try connection.query(
            "UPDATE messages SET status = 'cancelled', lease_until = NULL, updated_at = now() WHERE id = ANY($1::uuid[]) AND tenant_id = $2",
            [ids, tenantID])
        try EventStore.insert(ids.map { NewEvent(tenantID: tenantID, messageID: $0, type: .cancelled, detail: cancelDetail(actor: actor, batchID: batchID)) }, on: connection)
        try audit(ids, action: "message.cancelled", tenantID: tenantID, actor: actor, batchID: batchID, on: connection)
    }

    /// Records a cancel request on locked `sending` rows, with the detail the `cancelled` event
    /// will carry when it is honoured, and one audit entry.
    private static func requestCancel(_ ids: [UUID], tenantID: UUID, actor: String, batchID: String?, on connection: PostgresConnection) throws {
        guard !ids.isEmpty else { return }
        let detail = String(decoding: try JSONEncoder().encode(cancelDetail(actor: actor, batchID: batchID)), as: UTF8.self)
        try connection.query(
            "UPDATE messages SET cancel_requested_at = now(), cancel_request = $3::jsonb WHERE id = ANY($1::uuid[]) AND tenant_id = $2",
            [ids, tenantID, detail])
        try audit(ids, action: "message.cancel_requested", tenantID: tenantID, actor: actor, batchID: batchID, on: connection)
    }

    /// A `cancelled` event's detail: who, and the batch id.
    private static func cancelDetail(actor: String, batchID: String?) -> [String: String] {
        var detail = ["by": actor]
        if let batchID { detail["batch_id"] = batchID }
        return detail
    }

    private static func audit(_ ids: [UUID], action: String, tenantID: UUID, actor: String, batchID: String?, on connection: PostgresConnection) throws {
        var audit = ["messages": "\(ids.count)"]
        if let batchID { audit["batch_id"] = batchID }
        try AuditLog.record(
            AuditEntry(tenantID: tenantID, actor: actor, action: action, target: ids.count == 1 ? ids[0].lowercasedString : nil, detail: audit),
            on: connection)
    }

    /// The `cancelled` events of messages whose cancel request a write honoured, for a data-modifying
    /// CTE: `source` names a CTE returning `id`, `tenant_id`, `status` and `cancel_request` of the
    /// rows it wrote; rows it left `cancelled` get an event with the request's detail.
    static func honouredCancelEvents(from source: String, at time: String = "now()") -> String {
        """
        INSERT INTO events (tenant_id, message_id, type, detail, occurred_at)
        SELECT s.tenant_id, s.id, 'cancelled', COALESCE(s.cancel_request, '{}'::jsonb), \(time)
        FROM \(source) s WHERE s.status = 'cancelled'
        RETURNING message_id
        """
    }
}
