import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// Writes the outcome of a round of provider calls in one transaction: statuses and events
    /// together, one statement per kind of outcome. Returns the deferred messages it cancelled
    /// instead, because a cancel was requested while the worker had them: their queue entries
    /// are acknowledged, not rescheduled.
    @discardableResult
    public func record(_ outcomes: OutcomeBatch) async throws -> Set<UUID> {
        guard !outcomes.isEmpty else { return [] }
        let events = outcomes.events
        let statements = [!outcomes.sent.isEmpty, !outcomes.deferred.isEmpty, !outcomes.failed.isEmpty, !outcomes.dropped.isEmpty, !events.isEmpty, !Self.permanentRefusals(outcomes).isEmpty].filter { $0 }.count
        if statements == 1 {
            // A single statement is atomic on its own (the usual round: everything sent).
            return try await pool.withConnection { connection in try Self.write(outcomes, events: events, on: connection) }
        } else {
            return try await pool.transaction { connection in try Self.write(outcomes, events: events, on: connection) }
        }
    }

    private static func write(_ outcomes: OutcomeBatch, events: [NewEvent], on connection: PostgresConnection) throws -> Set<UUID> {
        // The round's events first, so a `cancelled` event written below comes after them.
        if !events.isEmpty {
            try EventStore.insert(events, on: connection)
        }
        if !outcomes.sent.isEmpty {
            // One statement still: the sends are counted for sender health as they are recorded.
            // A provider's report may have been stored before this write: it keeps its status.
            // Rows are not locked in id order first (the tracker's report write does that): a
            // deadlock with a report for a message still in this write is rare, Postgres breaks
            // it within a second and both sides retry, while a locking pass would cost every
            // sent batch a second index scan.
            try connection.query(
                """
                WITH sent AS (
                    UPDATE messages m SET status = CASE WHEN m.status IN \(Self.reportedStatuses) THEN m.status ELSE 'sent' END,
                        attempts = m.attempts + 1, provider_account_id = u.account,
                        provider_message_id = u.pmid, sent_at = now(), updated_at = now(), lease_until = NULL, last_error = NULL
                    FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(id, account, pmid)
                    WHERE m.id = u.id AND \(MessageStore.dayPruned("m"))
                    RETURNING m.tenant_id, m.content
                )
                \(SenderHealthLedger.countSent(slotParameter: 4))
                """,
                [outcomes.sent.map(\.messageID), outcomes.sent.map(\.accountID), outcomes.sent.map(\.providerMessageID), SenderHealthLedger.randomSlot()])
        }
        var honoured: Set<UUID> = []
        if !outcomes.deferred.isEmpty {
            // A hold, retry or deferral of a message with a cancel request cancels it instead,
            // with its `cancelled` event (after the round's events, by time and id), in the same statement.
            let latestEvent = events.map(\.occurredAt).max() ?? Date.distantPast
            honoured = Set(try connection.query(
                """
                WITH touched AS (
                    UPDATE messages m SET status = CASE WHEN m.cancel_requested_at IS NULL THEN 'queued' ELSE 'cancelled' END,
                        attempts = m.attempts + u.counted, next_attempt_at = u.next_at,
                        enqueued_at = now(), last_error = u.reason, lease_until = NULL, updated_at = now(),
                        held_since = CASE WHEN u.counted = 0 THEN COALESCE(m.held_since, now()) END,
                        held_seconds = m.held_seconds + CASE WHEN u.counted = 1 AND m.held_since IS NOT NULL
                            THEN extract(epoch FROM now() - m.held_since)::float8 ELSE 0 END
                    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[]) AS u(id, reason, next_at, counted)
                    WHERE m.id = u.id AND \(MessageStore.dayPruned("m")) AND m.status NOT IN \(Self.sentStatuses) AND m.status <> 'cancelled'
                    RETURNING m.id, m.tenant_id, m.status, m.cancel_request
                )
                \(MessageStore.honouredCancelEvents(from: "touched", at: "GREATEST(now(), $5::timestamptz)"))
                """,
                [outcomes.deferred.map(\.messageID), outcomes.deferred.map(\.reason), outcomes.deferred.map(\.nextAttemptAt),
                 outcomes.deferred.map { $0.countsAsAttempt ? 1 : 0 }, latestEvent]).map { try $0.uuid("message_id") })
        }
        if !outcomes.failed.isEmpty {
            try connection.query(
                """
                UPDATE messages m SET status = 'failed', attempts = m.attempts + u.counted, last_error = u.reason,
                    lease_until = NULL, updated_at = now()
                FROM unnest($1::uuid[], $2::text[], $3::int[]) AS u(id, reason, counted)
                WHERE m.id = u.id AND \(MessageStore.dayPruned("m")) AND m.status NOT IN \(Self.sentStatuses) AND m.status <> 'cancelled'
                """,
                [outcomes.failed.map(\.messageID), outcomes.failed.map(\.reason), outcomes.failed.map { $0.countsAsAttempt ? 1 : 0 }])
        }
        if !outcomes.dropped.isEmpty {
            try connection.query(
                """
                UPDATE messages m SET status = 'suppressed', lease_until = NULL, updated_at = now()
                FROM unnest($1::uuid[]) AS u(id)
                WHERE m.id = u.id AND \(MessageStore.dayPruned("m")) AND m.status NOT IN \(Self.sentStatuses) AND m.status <> 'cancelled'
                """, [outcomes.dropped.map(\.messageID)])
        }
        // An SMTP server's permanent refusal of a recipient is a hard bounce: suppressed at once,
        // naming the `bounced` event just written.
        let refusals = Self.permanentRefusals(outcomes)
        if !refusals.isEmpty {
            try connection.query(
                """
                INSERT INTO suppressions (tenant_id, email, reason, event_id)
                SELECT u.tenant_id, u.email, 'bounce',
                    (SELECT max(e.id) FROM events e WHERE e.message_id = u.message_id AND e.message_id = ANY($2::uuid[])
                         AND e.type = 'bounced' AND e.detail->>'recipient' = u.recipient)
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS u(tenant_id, message_id, recipient, email)
                ON CONFLICT (tenant_id, email) DO NOTHING
                """,
                [refusals.map(\.tenantID), refusals.map(\.messageID), refusals.map(\.recipient), refusals.map(\.email)])
        }
        return honoured
    }

    /// Statuses a provider call already reached; a late deferral, failure or drop never overwrites them.
    static let sentStatuses = "('sent', 'delivered', 'bounced', 'complained')"

    /// Statuses only a provider's report gives; the worker's `sent` write never overwrites them.
    static let reportedStatuses = "('delivered', 'bounced', 'complained')"

    /// The permanently refused recipients among the outcomes' `bounced` events.
    static func permanentRefusals(_ outcomes: OutcomeBatch) -> [(tenantID: UUID, messageID: UUID, recipient: String, email: String)] {
        outcomes.recipientEvents.compactMap { event in
            guard event.type == .bounced, event.detail["permanent"] == "true", let recipient = event.detail["recipient"] else { return nil }
            let email = (try? EmailAddress(email: recipient)).map(SuppressionStore.normalised) ?? recipient.lowercased()
            return (event.tenantID, event.messageID, recipient, email)
        }
    }
}
