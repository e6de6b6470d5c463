import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// Marks the given messages as being sent by the caller, for `lease` seconds, and returns
    /// the ones it could claim: queued and due, or `sending` under an expired lease. Messages
    /// already sent, failed, or claimed by a live worker are left out, which is what keeps a
    /// duplicated queue entry from becoming a duplicate send. A `sending` message with a cancel
    /// request (its worker died holding it) is cancelled instead, in the same statement.
    ///
    /// The claim writes only the lease (and clears an old cancel request): `status` stays
    /// `queued` and `updated_at` stays, so no indexed column changes and the update is HOT, a new
    /// row version on the same page with no index entries (`shownStatus` shows it as `sending`).
    /// A row stored as `sending` by a worker of an older version (before migration 23, or during
    /// a rolling upgrade) is claimed once its lease lapses, and stored as `queued` again.
    public func claim(_ ids: [UUID], lease: Double) async throws -> [Message] {
        guard !ids.isEmpty else { return [] }
        // Bodies come back in the same round trip, once per distinct body (on the first row
        // that names it; CASE evaluates the lookup only there): a campaign's 1,000 messages
        // bring one body, a single send its own. A queued row's cancel request is an old one
        // (a failed message retried or redriven since): the claim clears it.
        let rows = try await pool.query(
            """
            WITH touched AS (
                UPDATE messages SET
                    status = CASE WHEN lease_until IS NOT NULL AND cancel_requested_at IS NOT NULL THEN 'cancelled' ELSE 'queued' END,
                    lease_until = CASE WHEN lease_until IS NOT NULL AND cancel_requested_at IS NOT NULL THEN NULL
                        ELSE now() + make_interval(secs => $2) END,
                    cancel_requested_at = CASE WHEN lease_until IS NULL THEN NULL ELSE cancel_requested_at END,
                    cancel_request = CASE WHEN lease_until IS NULL THEN NULL ELSE cancel_request END
                WHERE id = ANY($1::uuid[])
                  AND (status = 'queued' AND (lease_until IS NULL OR lease_until < now())
                       OR status = 'sending' AND lease_until < now())
                  AND next_attempt_at <= now() + interval '2 seconds'
                RETURNING id, tenant_id, status, cancel_request, priority, content, body_key, attempts, send_at, created_at, redriven_at, held_seconds, held_since
            ), honoured AS (
                \(Self.honouredCancelEvents(from: "touched"))
            ), claimed AS (
                SELECT * FROM touched WHERE status = 'queued'
            )
            SELECT c.*,
                CASE WHEN c.body_key IS NOT NULL AND row_number() OVER (PARTITION BY c.tenant_id, c.body_key) = 1
                    THEN (SELECT b.content FROM message_bodies b WHERE b.tenant_id = c.tenant_id AND b.key = c.body_key)
                END AS body
            FROM claimed c
            """, [ids, lease])
        let decoder = JSONDecoder()
        var claimed: [(message: Message, body: BodyKey?)] = []
        var bodies: [BodyKey: MessageBody] = [:]
        for row in rows {
            let tenantID = try row.uuid("tenant_id")
            let message = Message(
                id: try row.uuid("id"), tenantID: tenantID,
                priority: Priority(rawValue: try row.string("priority")) ?? .bulk, status: .sending,
                content: try Self.content(try row.string("content"), decoder),
                attempts: try row.int("attempts"), sendAt: try row.optionalDate("send_at"), createdAt: try row.date("created_at"),
                redrivenAt: try row.optionalDate("redriven_at"), heldSeconds: try row.double("held_seconds"),
                heldSince: try row.optionalDate("held_since"))
            let key = row.optionalString("body_key").map { BodyKey(tenantID: tenantID, key: $0) }
            if let key, let json = row.optionalString("body") {
                bodies[key] = try MessageBody(storageJSON: json.utf8) ?? decoder.decode(MessageBody.self, from: Data(json.utf8))
            }
            claimed.append((message, key))
        }
        return try claimed.map { entry in
            guard let key = entry.body else { return entry.message }
            guard let body = bodies[key] else { throw StoreError.missingBody(messageID: entry.message.id) }
            var message = entry.message
            message.content = message.content.with(body)
            return message
        }
    }

    /// For queue entries `claim` did not hand out: when each may be tried again, or nil when the
    /// message is finished (or unknown) and its entry should simply leave the queue.
    public func unclaimedRetryTimes(_ ids: [UUID]) async throws -> [UUID: Date?] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await pool.query(
            """
            SELECT id, status, GREATEST(COALESCE(lease_until, now()), next_attempt_at) AS retry_at
            FROM messages WHERE id = ANY($1::uuid[])
            """, [ids])
        var result: [UUID: Date?] = [:]
        for id in ids { result[id] = .some(nil) }
        for row in rows {
            let status = MessageStatus(rawValue: try row.string("status")) ?? .failed
            result[try row.uuid("id")] = status.isFinal ? .some(nil) : .some(try row.date("retry_at"))
        }
        return result
    }
}
