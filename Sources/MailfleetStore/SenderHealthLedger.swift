import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetProviderFormats

/// Writes sender-health counters (`sender_health`, one row per tenant, From domain, minute and
/// slot) in the transaction that records what they count: the worker's sends, the tracker's
/// newly stored delivery, bounce and complaint reports. A few multi-row upserts per batch,
/// never a statement per message; reading is then a sum over at most 1,440 minutes.
public enum SenderHealthLedger {
    /// Rows per tenant, domain and minute: concurrent writers pick one at random, so workers
    /// recording the same tenant's sends in the same minute rarely wait on one row lock.
    static let slots = 4

    /// The lowercased domain of the From address in the `json` content column `column`;
    /// `(unknown)` (never a domain, nor the whole-tenant pause's empty name) when it has none.
    static func fromDomain(_ column: String) -> String {
        "coalesce(lower(substring(\(column)->'from'->>'email' from '@([^@]+)$')), '(unknown)')"
    }

    /// The number of envelope recipients (to, cc and bcc) of the `json` content column `column`:
    /// providers report bounces and complaints per recipient, so sends are counted the same way.
    static func recipients(_ column: String) -> String {
        "(coalesce(json_array_length(\(column)->'to'), 0) + coalesce(json_array_length(\(column)->'cc'), 0) + coalesce(json_array_length(\(column)->'bcc'), 0))"
    }

    /// The statement that marks the `UPDATE ... RETURNING m.tenant_id, m.content` in the CTE
    /// `sent` as sent in this minute, one per recipient: `$slotParameter` is `randomSlot()`.
    static func countSent(slotParameter: Int) -> String {
        """
        INSERT INTO sender_health (tenant_id, domain, minute, slot, sent)
        SELECT tenant_id, \(fromDomain("content")), floor(extract(epoch FROM now()) / 60)::int, $\(slotParameter)::smallint, sum(\(recipients("content")))
        FROM sent GROUP BY 1, 2
        ON CONFLICT (tenant_id, domain, minute, slot) DO UPDATE SET sent = sender_health.sent + excluded.sent
        """
    }

    /// A slot for one write.
    static func randomSlot() -> Int { Int.random(in: 0..<slots) }

    /// The counter a newly stored provider report adds to, if any.
    static func counter(_ event: WebhookEvent) -> String? {
        switch event.kind {
        case .delivered: return "delivered"
        case .bounced: return event.bounce?.severity == .hard ? "hard" : "soft"
        case .complained: return "complained"
        case .deferred, .opened, .clicked, .unsubscribed, .dropped: return nil
        }
    }

    /// Counts newly stored reports against their messages' tenant and From domain, in the minute
    /// the message was sent (now if its `sent` write has not landed yet): a window's rates are
    /// then about the mail sent in it, and a complaint arriving days late about mail sent before
    /// a resume does not count against the mail sent after it.
    static func countReports(messageIDs: [UUID], events: [WebhookEvent], on connection: PostgresConnection) throws {
        var ids: [UUID] = []
        var counters: [String] = []
        for (id, event) in zip(messageIDs, events) {
            guard let counter = counter(event) else { continue }
            ids.append(id)
            counters.append(counter)
        }
        guard !ids.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO sender_health (tenant_id, domain, minute, slot, delivered, hard_bounced, soft_bounced, complained)
            SELECT m.tenant_id, \(fromDomain("m.content")), floor(extract(epoch FROM coalesce(m.sent_at, now())) / 60)::int, $3::smallint,
                count(*) FILTER (WHERE u.counter = 'delivered'), count(*) FILTER (WHERE u.counter = 'hard'),
                count(*) FILTER (WHERE u.counter = 'soft'), count(*) FILTER (WHERE u.counter = 'complained')
            FROM unnest($1::uuid[], $2::text[]) AS u(id, counter) JOIN messages m ON m.id = u.id AND \(MessageStore.dayPruned("m"))
            GROUP BY 1, 2, 3
            ON CONFLICT (tenant_id, domain, minute, slot) DO UPDATE SET
                delivered = sender_health.delivered + excluded.delivered, hard_bounced = sender_health.hard_bounced + excluded.hard_bounced,
                soft_bounced = sender_health.soft_bounced + excluded.soft_bounced, complained = sender_health.complained + excluded.complained
            """, [ids, counters, randomSlot()])
    }
}
