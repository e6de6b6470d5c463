import Foundation
import MailfleetCore
import MailfleetPostgres

extension SuppressionStore {
    /// The reason an RFC 8058 one-click unsubscribe gives its suppression.
    public static let unsubscribedReason = "unsubscribed"

    /// Suppresses `address` for the tenant and records an `unsubscribed` event on the message,
    /// both in one transaction (with, for a campaign's or drip sequence's message, the contact's
    /// membership of its list set to `unsubscribed`). Idempotent: an address already suppressed keeps its reason, and
    /// a message gets one `unsubscribed` event however often the link is posted (concurrent
    /// posts of one message queue on a lock). Returns true when this call recorded the event.
    @discardableResult
    public func unsubscribe(tenantID: UUID, messageID: UUID, address: EmailAddress, detail: [String: String] = [:]) async throws -> Bool {
        let email = SuppressionStore.normalised(address)
        var eventDetail = detail
        eventDetail["email"] = email
        let event = NewEvent(tenantID: tenantID, messageID: messageID, type: .unsubscribed, detail: eventDetail)
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["unsubscribe:" + messageID.lowercasedString])
            let seen = try connection.query(
                "SELECT id FROM events WHERE message_id = $1 AND type = $2 ORDER BY id LIMIT 1", [messageID, EventType.unsubscribed.rawValue])
            let recorded = seen.isEmpty
            if recorded { try EventStore.insert([event], on: connection) }
            // The suppression names the event that caused it, as the webhook and SMTP paths do.
            try connection.query(
                """
                INSERT INTO suppressions (tenant_id, email, reason, event_id)
                SELECT $1::uuid, $2::text, $3::text, (SELECT id FROM events WHERE message_id = $4::uuid AND type = $5::text ORDER BY id LIMIT 1)
                ON CONFLICT (tenant_id, email) DO NOTHING
                """,
                [tenantID, email, SuppressionStore.unsubscribedReason, messageID, EventType.unsubscribed.rawValue])
            // A campaign's (or sequence's) message also takes its contact off that campaign's (sequence's) list.
            try CampaignStore.unsubscribeFromList(messageID: messageID, tenantID: tenantID, on: connection)
            return recorded
        }
    }
}
