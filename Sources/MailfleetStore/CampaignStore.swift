import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's campaigns in Postgres: create, read, list, the tenant's commands (start, pause,
/// resume, cancel) and stats. The runner's side, expanding recipients into messages, is
/// `CampaignStore+Expansion`. Tenant-facing statements run under row-level security.
public struct CampaignStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store on the same Postgres as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.init(pool: messages.pool)
    }

    /// Why a campaign could not be created.
    public enum CreateRefusal: Error, Sendable, Equatable {
        /// The tenant has no list with that id.
        case noList
        /// The tenant has no segment with that id.
        case noSegment
    }

    /// Stores a new campaign (a draft); refuses a list or segment the tenant does not have.
    public func create(_ campaign: Campaign, actor: String) async throws -> Campaign {
        try await pool.tenantTransaction(campaign.tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contact_lists WHERE id = $1 AND tenant_id = $2", [campaign.listID, campaign.tenantID]).isEmpty else {
                throw CreateRefusal.noList
            }
            if let segment = campaign.segmentID {
                guard try Self.segmentFilter(tenantID: campaign.tenantID, id: segment, now: Date(), on: connection) != nil else { throw CreateRefusal.noSegment }
            }
            let s = campaign.schedule
            try connection.query(
                """
                INSERT INTO campaigns (
                    id, tenant_id, name, list_id, segment_id, template_id, template_version, subject, text_body, html_body,
                    from_email, from_name, reply_to_email, reply_to_name, track_opens, track_clicks, state,
                    send_at, local_send_at, time_zone, recipient_local_time, per_hour, variants, ab_test)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'draft', $17, $18, $19, $20, $21, $22::jsonb, $23::jsonb)
                """,
                [
                    campaign.id, campaign.tenantID, campaign.name, campaign.listID, campaign.segmentID, campaign.templateID, campaign.templateVersion,
                    campaign.template.subject, campaign.template.text, campaign.template.html, campaign.from.email, campaign.from.name,
                    campaign.replyTo?.email, campaign.replyTo?.name, campaign.trackOpens, campaign.trackClicks,
                    s.sendAt, s.localTime?.text, s.timeZone, s.perRecipient, campaign.perHour,
                    campaign.isABTest ? try Self.json(campaign.variants) : nil, try campaign.abTest.map { try Self.json($0) },
                ])
            try AuditLog.record(
                AuditEntry(tenantID: campaign.tenantID, actor: actor, action: "campaign.created", target: campaign.id.lowercasedString, detail: ["name": campaign.name]),
                on: connection)
            return try Self.fetch(id: campaign.id, tenantID: campaign.tenantID, lock: false, on: connection)!
        }
    }

    /// One of the tenant's campaigns, or nil.
    public func campaign(id: UUID, tenantID: UUID) async throws -> Campaign? {
        try await pool.tenantTransaction(tenantID) { try Self.fetch(id: id, tenantID: tenantID, lock: false, on: $0) }
    }

    /// The tenant's campaigns, newest first, optionally in one state; `after` continues from
    /// the last campaign of a previous page.
    public func list(tenantID: UUID, state: CampaignState? = nil, after: UUID? = nil, limit: Int = 100) async throws -> [Campaign] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT * FROM campaigns
                WHERE tenant_id = $1 AND ($2::text IS NULL OR state = $2::text)
                  AND ($3::uuid IS NULL OR (created_at, id) < (SELECT created_at, id FROM campaigns WHERE id = $3::uuid AND tenant_id = $1))
                ORDER BY created_at DESC, id DESC LIMIT $4
                """, [tenantID, state?.rawValue, after, limit]
            ).map(Self.campaign(from:))
        }
    }

    /// What `apply(_:id:tenantID:actor:)` did.
    public enum CommandOutcome: Sendable, Equatable {
        /// The tenant has no such campaign.
        case notFound
        /// The command does not apply in the campaign's state.
        case refused(CampaignState.Refusal)
        /// Done: the campaign as it is now, and for a cancel the messages it cancelled (to drop
        /// from Redis's delayed sets) and those already past cancelling.
        case applied(Campaign, cancelled: MessageStore.BatchCancellation?)
    }

    /// Starts, pauses, resumes or cancels a campaign, with an audit entry. The campaign's row
    /// lock orders it with the runner: a command waits for a chunk being expanded to commit,
    /// and the runner's next chunk sees the new state. A cancel then cancels every message of
    /// the campaign still queued (the batch cancel on its `batch_id`), after the state's commit.
    /// A cancel of a cancelled campaign changes and audits nothing but runs the batch cancel
    /// again, so a cancel cut off between the two (a crash, a lost answer) is finished by
    /// sending it again.
    public func apply(_ command: CampaignCommand, id: UUID, tenantID: UUID, actor: String, now: Date = Date()) async throws -> CommandOutcome {
        let outcome: CommandOutcome = try await pool.tenantTransaction(tenantID) { connection in
            guard let campaign = try Self.fetch(id: id, tenantID: tenantID, lock: true, on: connection) else { return .notFound }
            let next: CampaignState
            switch Result(catching: { () throws(CampaignState.Refusal) in
                try campaign.state.applying(command, firstRunAt: campaign.schedule.firstRunAt, now: now)
            }) {
            case .success(let state): next = state
            case .failure(let refusal): return .refused(refusal)
            }
            // Only a repeated cancel leaves the state as it was: nothing to write or audit.
            if next == campaign.state { return .applied(campaign, cancelled: nil) }
            let runAt = max(campaign.schedule.firstRunAt ?? now, now)
            try connection.query(
                """
                UPDATE campaigns SET state = $3, updated_at = now(),
                    next_run_at = CASE WHEN $3 IN ('scheduled', 'running') THEN $4::timestamptz ELSE next_run_at END,
                    started_at = CASE WHEN $5 THEN COALESCE(started_at, now()) ELSE started_at END,
                    finished_at = CASE WHEN $3 = 'cancelled' THEN now() ELSE finished_at END,
                    last_error = CASE WHEN $6 THEN NULL ELSE last_error END
                WHERE id = $1 AND tenant_id = $2
                """, [id, tenantID, next.rawValue, runAt, command == .start, command == .resume])
            try AuditLog.record(
                AuditEntry(
                    tenantID: tenantID, actor: actor, action: "campaign.\(command.pastTense)", target: id.lowercasedString,
                    detail: ["from": campaign.state.rawValue, "to": next.rawValue]),
                on: connection)
            return .applied(try Self.fetch(id: id, tenantID: tenantID, lock: false, on: connection)!, cancelled: nil)
        }
        guard command == .cancel, case .applied(let campaign, _) = outcome else { return outcome }
        // After the commit: the runner makes no message for a cancelled campaign, so this
        // reaches every one it made.
        let cancelled = try await MessageStore(pool: pool).cancel(batchID: campaign.batchID, tenantID: tenantID, actor: actor)
        return .applied(campaign, cancelled: cancelled)
    }

    /// What became of a campaign's messages: their statuses (`messages_campaign_status`, an
    /// index-only count) and what recipients did (`campaign_stats`, kept by a trigger).
    public func stats(id: UUID, tenantID: UUID) async throws -> CampaignStats {
        try await pool.tenantTransaction(tenantID) { connection in
            var stats = CampaignStats()
            for row in try connection.query(
                "SELECT status, count(*) AS n FROM messages WHERE campaign_id = $1 AND tenant_id = $2 GROUP BY status", [id, tenantID]) {
                let n = try row.int("n")
                switch MessageStatus(rawValue: try row.string("status")) {
                case .queued, .sending: stats.pending += n
                case .sent, .delivered, .bounced, .complained: stats.sent += n
                case .failed, .suppressed: stats.failed += n
                case .cancelled: stats.cancelled += n
                case nil: break
                }
            }
            for row in try connection.query("SELECT type, count FROM campaign_stats WHERE campaign_id = $1 AND tenant_id = $2", [id, tenantID]) {
                let n = try row.int("count")
                switch EventType(rawValue: try row.string("type")) {
                case .delivered: stats.delivered = n
                case .bounced: stats.bounced = n
                case .opened: stats.opened = n
                case .clicked: stats.clicked = n
                case .unsubscribed: stats.unsubscribed = n
                case .complained: stats.complained = n
                default: break
                }
            }
            return stats
        }
    }

    /// Marks the contact of a campaign message `unsubscribed` from that campaign's list, and of
    /// a drip sequence's message (batch `sequence:<id>`) from the sequence's trigger list, on
    /// the caller's connection (the unsubscribe link's transaction). Nothing for other messages.
    public static func unsubscribeFromList(messageID: UUID, tenantID: UUID, on connection: PostgresConnection) throws {
        try connection.query(
            """
            UPDATE list_members l SET status = 'unsubscribed', unsubscribed_at = now(), updated_at = now()
            FROM (
                SELECT k.list_id, m.contact_id FROM messages m JOIN campaigns k ON k.id = m.campaign_id AND k.tenant_id = m.tenant_id
                WHERE m.id = $1 AND m.tenant_id = $2
                UNION ALL
                SELECT s.trigger_list_id, m.contact_id FROM messages m JOIN sequences s ON 'sequence:' || s.id::text = m.batch_id AND s.tenant_id = m.tenant_id
                WHERE m.id = $1 AND m.tenant_id = $2 AND m.batch_id LIKE 'sequence:%' AND s.trigger_list_id IS NOT NULL
            ) t
            WHERE l.list_id = t.list_id AND l.contact_id = t.contact_id AND l.tenant_id = $2 AND l.status <> 'unsubscribed'
            """, [messageID, tenantID])
    }

    static func fetch(id: UUID, tenantID: UUID, lock: Bool, on connection: PostgresConnection) throws -> Campaign? {
        try connection.query("SELECT * FROM campaigns WHERE id = $1 AND tenant_id = $2\(lock ? " FOR UPDATE" : "")", [id, tenantID])
            .first.map(Self.campaign(from:))
    }

    static func campaign(from row: PostgresRow) throws -> Campaign {
        let from = try EmailAddress(email: try row.string("from_email"), name: row.optionalString("from_name"))
        let replyTo = try row.optionalString("reply_to_email").map { try EmailAddress(email: $0, name: row.optionalString("reply_to_name")) }
        return Campaign(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"), listID: try row.uuid("list_id"),
            segmentID: row.optionalString("segment_id").flatMap(UUID.init(uuidString:)),
            templateID: row.optionalString("template_id").flatMap(UUID.init(uuidString:)),
            templateVersion: row.optionalString("template_version").flatMap { Int($0) },
            template: MessageTemplate(subject: try row.string("subject"), text: row.optionalString("text_body"), html: row.optionalString("html_body")),
            from: from, replyTo: replyTo, trackOpens: try row.bool("track_opens"), trackClicks: try row.bool("track_clicks"),
            state: CampaignState(rawValue: try row.string("state")) ?? .draft,
            schedule: CampaignSchedule(
                sendAt: try row.optionalDate("send_at"), localTime: row.optionalString("local_send_at").flatMap(LocalDateTime.init),
                timeZone: row.optionalString("time_zone"), perRecipient: try row.bool("recipient_local_time")),
            perHour: row.optionalString("per_hour").flatMap { Int($0) }, cursor: row.optionalString("cursor").flatMap(UUID.init(uuidString:)),
            recipientsTotal: row.optionalString("recipients_total").flatMap { Int($0) }, expanded: try row.int("expanded"),
            skipped: try row.int("skipped"), lastError: row.optionalString("last_error"), createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"), startedAt: try row.optionalDate("started_at"), finishedAt: try row.optionalDate("finished_at"),
            variants: try row.optionalString("variants").map { try JSONDecoder().decode([CampaignVariant].self, from: Data($0.utf8)) } ?? [],
            abTest: try row.optionalString("ab_test").map { try JSONDecoder().decode(ABTest.self, from: Data($0.utf8)) },
            abTestEndsAt: try row.optionalDate("ab_test_ends_at"),
            abDecision: try row.optionalString("ab_decision").map { try JSONDecoder().decode(ABDecision.self, from: Data($0.utf8)) })
    }
}
