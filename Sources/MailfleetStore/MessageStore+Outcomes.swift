import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// Writes the outcome of a round of provider calls in one transaction: statuses and events
    /// together, one statement per kind of outcome.
    public func record(_ outcomes: OutcomeBatch) async throws {
        guard !outcomes.isEmpty else { return }
        let events = outcomes.events
        let statements = [!outcomes.sent.isEmpty, !outcomes.deferred.isEmpty, !outcomes.failed.isEmpty, !events.isEmpty].filter { $0 }.count
        if statements == 1 {
            // A single statement is atomic on its own (the usual round: everything sent).
            try await pool.withConnection { connection in try Self.write(outcomes, events: events, on: connection) }
        } else {
            try await pool.transaction { connection in try Self.write(outcomes, events: events, on: connection) }
        }
    }

    private static func write(_ outcomes: OutcomeBatch, events: [NewEvent], on connection: PostgresConnection) throws {
        if !outcomes.sent.isEmpty {
            try connection.query(
                """
                UPDATE messages m SET status = 'sent', attempts = m.attempts + 1, provider_account_id = u.account,
                    provider_message_id = u.pmid, sent_at = now(), updated_at = now(), lease_until = NULL, last_error = NULL
                FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS u(id, account, pmid)
                WHERE m.id = u.id
                """,
                [outcomes.sent.map(\.messageID), outcomes.sent.map(\.accountID), outcomes.sent.map(\.providerMessageID)])
        }
        if !outcomes.deferred.isEmpty {
            try connection.query(
                """
                UPDATE messages m SET status = 'queued', attempts = m.attempts + u.counted, next_attempt_at = u.next_at,
                    enqueued_at = now(), last_error = u.reason, lease_until = NULL, updated_at = now()
                FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::int[]) AS u(id, reason, next_at, counted)
                WHERE m.id = u.id AND m.status <> 'sent'
                """,
                [outcomes.deferred.map(\.messageID), outcomes.deferred.map(\.reason), outcomes.deferred.map(\.nextAttemptAt),
                 outcomes.deferred.map { $0.countsAsAttempt ? 1 : 0 }])
        }
        if !outcomes.failed.isEmpty {
            try connection.query(
                """
                UPDATE messages m SET status = 'failed', attempts = m.attempts + u.counted, last_error = u.reason,
                    lease_until = NULL, updated_at = now()
                FROM unnest($1::uuid[], $2::text[], $3::int[]) AS u(id, reason, counted)
                WHERE m.id = u.id AND m.status <> 'sent'
                """,
                [outcomes.failed.map(\.messageID), outcomes.failed.map(\.reason), outcomes.failed.map { $0.countsAsAttempt ? 1 : 0 }])
        }
        if !events.isEmpty {
            try EventStore.insert(events, on: connection)
        }
    }
}
