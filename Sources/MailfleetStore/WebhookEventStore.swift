import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetProviderFormats

/// One verified provider event and the account whose webhook it came through.
public struct ReceivedWebhookEvent: Sendable, Equatable {
    /// The tenant owning the account.
    public var tenantID: UUID
    /// The provider account.
    public var accountID: UUID
    /// The event.
    public var event: WebhookEvent

    /// Creates one.
    public init(tenantID: UUID, accountID: UUID, event: WebhookEvent) {
        self.tenantID = tenantID
        self.accountID = accountID
        self.event = event
    }
}

/// What became of one received event.
public enum WebhookEventFate: String, Sendable, Equatable {
    /// Stored in the message's history (and its status and suppressions followed).
    case stored
    /// The same provider event was stored before: nothing changed.
    case duplicate
    /// No message of the tenant matches it: not in any history, but a hard bounce, complaint
    /// or unsubscribe still suppresses the recipient.
    case uncorrelated
    /// It names a message of ours that is another tenant's: dropped (no history, no
    /// suppression), since the account's tenant must not act on another tenant's mail.
    case mismatched
}

/// Writes verified provider events in one transaction per batch: each event found its message
/// (by our id, else by the provider's), stored once per provider event id, the message's
/// status moved forward, and the recipient suppressed at once on a hard bounce, a complaint or
/// an unsubscribe. Batches mix tenants, so every statement filters by tenant explicitly.
public struct WebhookEventStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Records a batch; one fate per event, in order.
    public func record(_ batch: [ReceivedWebhookEvent]) async throws -> [WebhookEventFate] {
        guard !batch.isEmpty else { return [] }
        return try await pool.transaction { connection in try Self.record(batch, on: connection) }
    }

    static func record(_ batch: [ReceivedWebhookEvent], on connection: PostgresConnection) throws -> [WebhookEventFate] {
        let (messages, foreign) = try correlate(batch, on: connection)
        var fates = [WebhookEventFate](repeating: .uncorrelated, count: batch.count)
        for i in foreign { fates[i] = .mismatched }

        // The first of equal events in the batch is the candidate; later copies are duplicates.
        var candidates: [Int] = []
        var seen = Set<String>()
        for (i, received) in batch.enumerated() where messages[i] != nil {
            if seen.insert(dedupKey(received.accountID, received.event.providerEventID)).inserted { candidates.append(i) } else { fates[i] = .duplicate }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let inserted: [PostgresRow] = candidates.isEmpty ? [] : Array(try connection.query(
            """
            INSERT INTO events (tenant_id, message_id, type, detail, occurred_at, provider_account_id, provider_event_id)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::timestamptz[], $6::uuid[], $7::text[])
            ON CONFLICT (provider_account_id, provider_event_id, message_id) WHERE provider_event_id IS NOT NULL DO NOTHING
            RETURNING provider_account_id, provider_event_id
            """,
            [
                candidates.map { batch[$0].tenantID }, candidates.map { messages[$0]! }, candidates.map { eventType(batch[$0].event.kind).rawValue },
                try candidates.map { String(decoding: try encoder.encode(detail(batch[$0].event)), as: UTF8.self) },
                candidates.map { batch[$0].event.occurredAt }, candidates.map { batch[$0].accountID }, candidates.map { batch[$0].event.providerEventID },
            ]))
        let stored = Set(try inserted.map { dedupKey(try $0.uuid("provider_account_id"), try $0.string("provider_event_id")) })
        for i in candidates {
            fates[i] = stored.contains(dedupKey(batch[i].accountID, batch[i].event.providerEventID)) ? .stored : .duplicate
        }

        let counted = candidates.filter { fates[$0] == .stored }
        try SenderHealthLedger.countReports(messageIDs: counted.map { messages[$0]! }, events: counted.map { batch[$0].event }, on: connection)
        try advanceStatuses(batch, messages: messages, fates: fates, on: connection)
        try suppress(batch, fates: fates, on: connection)
        return fates
    }

    /// Each event's message id: ours when the tenant has that message, else the tenant's only
    /// message with the provider's id (a SendGrid or Mailgun call id covers a whole batch, so
    /// an id shared by several messages names none of them). `foreign` are the events whose id
    /// of ours is another tenant's message: they fall back to nothing.
    static func correlate(_ batch: [ReceivedWebhookEvent], on connection: PostgresConnection) throws -> (messages: [UUID?], foreign: Set<Int>) {
        var messages = [UUID?](repeating: nil, count: batch.count)
        var foreign = Set<Int>()
        let ours = batch.indices.filter { batch[$0].event.messageID != nil }
        if !ours.isEmpty {
            let rows = try connection.query(
                """
                SELECT u.i, m.tenant_id = u.tenant_id AS own FROM unnest($1::uuid[], $2::uuid[]) WITH ORDINALITY AS u(tenant_id, id, i)
                JOIN messages m ON m.id = u.id AND \(MessageStore.dayPruned("m", ids: 2))
                """, [ours.map { batch[$0].tenantID }, ours.map { batch[$0].event.messageID! }])
            for row in rows {
                let i = ours[try row.int("i") - 1]
                if try row.bool("own") { messages[i] = batch[i].event.messageID } else { foreign.insert(i) }
            }
        }
        let theirs = batch.indices.filter { messages[$0] == nil && !foreign.contains($0) && batch[$0].event.providerMessageID != nil }
        if !theirs.isEmpty {
            let rows = try connection.query(
                """
                SELECT u.i, (array_agg(m.id))[1] AS id, count(*) AS n
                FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS u(tenant_id, provider_message_id, i)
                JOIN messages m ON m.tenant_id = u.tenant_id AND m.provider_message_id = u.provider_message_id
                GROUP BY u.i
                """, [theirs.map { batch[$0].tenantID }, theirs.map { batch[$0].event.providerMessageID! }])
            for row in rows where try row.int("n") == 1 {
                messages[theirs[try row.int("i") - 1]] = try row.uuid("id")
            }
        }
        return (messages, foreign)
    }

    /// Moves each message with a newly stored report forward (never back: `MessageStatus.reportRank`).
    static func advanceStatuses(_ batch: [ReceivedWebhookEvent], messages: [UUID?], fates: [WebhookEventFate], on connection: PostgresConnection) throws {
        var furthest: [UUID: MessageStatus] = [:]
        for (i, received) in batch.enumerated() where fates[i] == .stored {
            guard let message = messages[i], let status = MessageStatus.reported(by: eventType(received.event.kind)) else { continue }
            if let current = furthest[message], (current.reportRank ?? 0) >= (status.reportRank ?? 0) { continue }
            furthest[message] = status
        }
        guard !furthest.isEmpty else { return }
        let ranked = MessageStatus.allCases.compactMap { status in status.reportRank.map { "WHEN '\(status.rawValue)' THEN \($0)" } }.joined(separator: " ")
        // Rows are locked in id order, so two tracker writers of overlapping messages never wait
        // on each other crosswise. The worker's `sent` write does not lock first (docs/TRACKING.md):
        // a deadlock with it is possible but rare, and Postgres breaks it for both to retry.
        let entries = furthest.sorted { $0.key.uuidString < $1.key.uuidString }
        try connection.query(
            """
            WITH locked AS MATERIALIZED (SELECT id FROM messages WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE)
            UPDATE messages m SET status = u.status, updated_at = now()
            FROM unnest($1::uuid[], $2::text[], $3::int[]) AS u(id, status, rank)
            WHERE m.id = u.id AND \(MessageStore.dayPruned("m")) AND m.id IN (SELECT id FROM locked) AND (CASE \(MessageStore.shownStatus("m")) \(ranked) END) < u.rank
            """, [entries.map(\.key), entries.map(\.value.rawValue), entries.map { $0.value.reportRank! }])
    }

    /// Suppresses the recipients of newly stored (or uncorrelated) hard bounces, complaints and
    /// unsubscribes. An address already suppressed keeps its first reason.
    static func suppress(_ batch: [ReceivedWebhookEvent], fates: [WebhookEventFate], on connection: PostgresConnection) throws {
        let causes = batch.indices.filter { (fates[$0] == .stored || fates[$0] == .uncorrelated) && batch[$0].event.suppressesRecipient && batch[$0].event.recipient != nil }
        guard !causes.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO suppressions (tenant_id, email, reason, event_id)
            SELECT u.tenant_id, u.email, u.reason, e.id
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[]) AS u(tenant_id, email, reason, account_id, event_id)
            LEFT JOIN events e ON e.provider_account_id = u.account_id AND e.provider_event_id = u.event_id
            ON CONFLICT (tenant_id, email) DO NOTHING
            """,
            [
                causes.map { batch[$0].tenantID }, causes.map { normalised(batch[$0].event.recipient!) },
                causes.map { suppressionReason(batch[$0].event.kind) }, causes.map { batch[$0].accountID }, causes.map { batch[$0].event.providerEventID },
            ])
    }

    /// The suppression reason an event gives.
    public static func suppressionReason(_ kind: WebhookEvent.Kind) -> String {
        switch kind {
        case .complained: return "complaint"
        case .unsubscribed: return SuppressionStore.unsubscribedReason
        default: return "bounce"
        }
    }

    /// The address as suppressions key it (`SuppressionStore.normalised`), or lowercased when it does not parse.
    static func normalised(_ recipient: String) -> String {
        (try? EmailAddress(email: recipient)).map(SuppressionStore.normalised) ?? recipient.lowercased()
    }

    /// The history's event type for an event kind.
    public static func eventType(_ kind: WebhookEvent.Kind) -> EventType {
        switch kind {
        case .delivered: return .delivered
        case .deferred: return .deferred
        case .bounced: return .bounced
        case .complained: return .complained
        case .opened: return .opened
        case .clicked: return .clicked
        case .unsubscribed: return .unsubscribed
        case .dropped: return .dropped
        }
    }

    /// The event's detail in the history (string values, like every other event's).
    public static func detail(_ event: WebhookEvent) -> [String: String] {
        var detail = ["provider": event.provider.rawValue]
        detail["recipient"] = event.recipient
        detail["provider_message_id"] = event.providerMessageID
        detail["url"] = event.url
        detail["reason"] = event.reason
        if let bounce = event.bounce {
            detail["bounce_type"] = bounce.severity.rawValue
            detail["bounce_class"] = bounce.bounceClass.rawValue
            detail["code"] = bounce.code
            detail["text"] = bounce.text.map { String($0.prefix(1000)) }
        }
        return detail
    }

    static func dedupKey(_ account: UUID, _ eventID: String) -> String { account.lowercasedString + "\u{1f}" + eventID }
}
