import Foundation
import MailfleetCore
import MailfleetPostgres

/// The runner's side: expanding a due campaign's recipients into messages, one chunk per
/// transaction. Any scheduler replica may run it: a chunk takes its campaign's row with
/// `FOR UPDATE SKIP LOCKED`, so two replicas never expand one campaign at once and a busy
/// campaign does not hold up another. The chunk's messages are inserted (the accept path's
/// statement, skipping a contact the campaign has a message for) in the transaction that
/// moves the cursor past their contacts: a crash before the commit leaves neither, after it
/// both. Enqueueing follows the commit, like an accepted message's; a crash in between
/// leaves messages `queued` with no queue entry, which reconciliation enqueues.
extension CampaignStore {
    /// What one call of `expandNext` did.
    public enum Expansion: Sendable, Equatable {
        /// No campaign was due (or every due one is being expanded by another replica).
        case idle
        /// Made messages for a campaign; `items` go on the queue now.
        case expanded(campaignID: UUID, messages: Int, skipped: Int, items: [MessageQueue.Item])
        /// The campaign had no recipient left: it is done.
        case finished(campaignID: UUID)
        /// The campaign must wait (its `per_hour` cap, or the tenant's quota) until `until`.
        case waiting(campaignID: UUID, until: Date, reason: String)
        /// Expanding the campaign failed (`failures` times in a row); it is left until `until`.
        case failed(campaignID: UUID, failures: Int, until: Date, error: String)
    }

    /// One chunk of the campaign due longest ago; `taken` learns which campaign it took, so a
    /// failure can be charged to that campaign (`expandNext`).
    func expandChunk(chunk: Int, now: Date, taken: Claim) async throws -> Expansion {
        try await pool.transaction { connection in
            guard let row = try connection.query(
                """
                SELECT * FROM campaigns WHERE state IN ('scheduled', 'running') AND next_run_at <= $1
                ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, [now]).first else { return .idle }
            taken.campaignID = try row.uuid("id")
            var campaign = try Self.campaign(from: row)
            let pacing = (try? JSONDecoder().decode(CampaignPacing.self, from: Data(try row.string("pacing").utf8))) ?? CampaignPacing()
            let filter = try campaign.segmentID.map { segment -> RecipientFilter in
                // A segment deleted (or no longer compilable) after creation matches nobody
                // rather than widening the campaign to the whole list.
                try Self.segmentFilter(tenantID: campaign.tenantID, id: segment, now: now, on: connection) ?? RecipientFilter(sql: "false", parameters: [])
            }
            campaign.state = campaign.state.takenUp()
            if campaign.recipientsTotal == nil {
                campaign.recipientsTotal = try Self.countRecipients(of: campaign, filter: filter, on: connection)
            }
            let allowance = pacing.allowance(perHour: campaign.perHour, at: now)
            guard allowance > 0 else {
                let until = pacing.nextFree(at: now)
                let reason = "per_hour cap of \(campaign.perHour ?? 0) reached; expanding again at \(ISO8601.format(until))"
                try Self.save(campaign, pacing: pacing, nextRunAt: until, lastError: reason, on: connection)
                return .waiting(campaignID: campaign.id, until: until, reason: reason)
            }
            // The tenant's quota is locked before the chunk is read, and the chunk is cut to
            // what it leaves, so a quota smaller than a chunk still sends, then waits.
            let periods = UsagePeriods(now: now)
            let ledger = try MessageStore.lockUsage(tenantIDs: [campaign.tenantID], periods: periods, on: connection)[campaign.tenantID]
            if var full = ledger, full.remaining == 0, let refusal = full.admit(1) {
                let reason = "tenant quota: \(refusal.message)"
                try Self.save(campaign, pacing: pacing, nextRunAt: refusal.resetsAt, lastError: reason, on: connection)
                return .waiting(campaignID: campaign.id, until: refusal.resetsAt, reason: reason)
            }
            let size = min(chunk, allowance, ledger?.remaining ?? Int.max)
            if campaign.isABTest {
                return try Self.expandABTest(campaign, pacing: pacing, filter: filter, size: size, ledger: ledger, periods: periods, now: now, on: connection)
            }
            let recipients = try Self.recipients(of: campaign, after: campaign.cursor, limit: size, filter: filter, on: connection)
            guard let last = recipients.last else {
                campaign.state = .done
                campaign.recipientsTotal = campaign.expanded + campaign.skipped
                try Self.save(campaign, pacing: pacing, nextRunAt: nil, lastError: campaign.lastError, finished: true, on: connection)
                return .finished(campaignID: campaign.id)
            }

            // Built as the batch API builds bulk messages: rendered and validated by `SubmissionPlan`.
            var made: [(recipient: CampaignRecipient, submission: MessageSubmission)] = []
            var skipped: [String] = []
            for recipient in recipients {
                if let submission = campaign.submission(for: recipient, now: now) {
                    made.append((recipient, submission))
                } else {
                    skipped.append("\(recipient.email): not a valid address")
                }
            }
            return try Self.storeChunk(
                campaign, pacing: pacing, made: made.map { ($0.recipient, $0.submission, nil) }, templates: [campaign.id: campaign.template],
                skipped: skipped, last: last, ledger: ledger, periods: periods, now: now, on: connection)
        }
    }

    /// The tail every chunk shares, plain or A/B: builds the recipients' messages as the batch
    /// API builds bulk (`SubmissionPlan` over `templates`), inserts them under the tenant's
    /// quota with campaign duplicates skipped, moves the cursor past `last` and saves the row,
    /// in the caller's transaction. `made` carries each recipient's A/B variant (nil outside a
    /// test cohort); the cohort's messages are marked and counted per variant with the insert.
    static func storeChunk(
        _ campaign: Campaign, pacing: CampaignPacing, made: [(recipient: CampaignRecipient, submission: MessageSubmission, variant: Int?)],
        templates: [UUID: MessageTemplate], skipped: [String], last: CampaignRecipient, ledger: QuotaLedger?, periods: UsagePeriods, now: Date,
        on connection: PostgresConnection
    ) throws -> Expansion {
        var campaign = campaign, pacing = pacing, skipped = skipped
        let plan = SubmissionPlan(
            items: made.map { .success($0.submission) }, isBatch: true, tenantID: campaign.tenantID, templates: templates,
            limits: MessageLimits(), now: now)
        var messages: [Message] = []
        var cohort: (ids: [UUID], variants: [Int]) = ([], [])
        for (index, outcome) in plan.outcomes.enumerated() {
            switch outcome {
            case .success(var message):
                message.campaignID = campaign.id
                message.contactID = made[index].recipient.contactID
                messages.append(message)
                if let variant = made[index].variant {
                    cohort.ids.append(message.id)
                    cohort.variants.append(variant)
                }
            case .failure(let problem):
                skipped.append("\(made[index].recipient.email): \(problem.field.map { "\($0): " } ?? "")\(problem.message)")
            }
        }

        var prepared = PreparedMessages()
        for message in messages { prepared.append(message) }
        if var ledger, let refusal = ledger.admit(messages.countedAgainstQuota) {
            let reason = "tenant quota: \(refusal.message)"
            try Self.save(campaign, pacing: pacing, nextRunAt: refusal.resetsAt, lastError: reason, on: connection)
            return .waiting(campaignID: campaign.id, until: refusal.resetsAt, reason: reason)
        }
        guard let inserted = try MessageStore.insert(
            prepared.rows, bodies: prepared.bodies, periods: periods, unlessQuota: ledger == nil, skippingCampaignDuplicates: true, on: connection)
        else {
            // A quota was set between the lock and the insert: the next pass counts under it.
            try Self.save(campaign, pacing: pacing, nextRunAt: now, lastError: campaign.lastError, on: connection)
            return .waiting(campaignID: campaign.id, until: now, reason: "the tenant's quota changed")
        }
        if !cohort.ids.isEmpty {
            // Marks the test cohort's messages and counts them per variant, in the chunk's
            // transaction; a message skipped as a duplicate is not there to mark or count.
            try connection.query(
                """
                WITH marked AS (
                    UPDATE messages m SET variant = u.variant FROM unnest($1::uuid[], $2::int[]) AS u(id, variant)
                    WHERE m.id = u.id AND \(MessageStore.dayPruned("m")) RETURNING m.variant
                )
                INSERT INTO campaign_variant_stats (campaign_id, variant, tenant_id, type, count)
                SELECT $3, variant, $4, 'made', count(*) FROM marked GROUP BY variant ORDER BY variant
                ON CONFLICT (campaign_id, variant, type) DO UPDATE SET count = campaign_variant_stats.count + excluded.count
                """, [cohort.ids, cohort.variants, campaign.id, campaign.tenantID])
        }
        pacing.record(inserted, at: now)
        campaign.cursor = last.contactID
        campaign.expanded += inserted
        campaign.skipped += skipped.count
        try Self.save(campaign, pacing: pacing, nextRunAt: now, lastError: skipped.last ?? campaign.lastError, on: connection)
        let items = messages.filter { $0.status == .queued }.map {
            MessageQueue.Item(id: $0.id, priority: $0.priority, tenantID: $0.tenantID, dueAt: $0.sendAt)
        }
        return .expanded(campaignID: campaign.id, messages: inserted, skipped: skipped.count, items: items)
    }

    /// Writes the runner's changes to a locked campaign row.
    static func save(
        _ campaign: Campaign, pacing: CampaignPacing, nextRunAt: Date?, lastError: String?, finished: Bool = false, on connection: PostgresConnection
    ) throws {
        let pacingJSON = String(decoding: try JSONEncoder().encode(pacing), as: UTF8.self)
        try connection.query(
            """
            UPDATE campaigns SET state = $2, cursor = $3, expanded = $4, skipped = $5, recipients_total = $6, pacing = $7::jsonb,
                next_run_at = $8, last_error = CASE WHEN failures > 0 AND $9::text = last_error THEN NULL ELSE $9 END, failures = 0, updated_at = now(), finished_at = CASE WHEN $10 THEN now() ELSE finished_at END
            WHERE id = $1
            """,
            [
                campaign.id, campaign.state.rawValue, campaign.cursor, campaign.expanded, campaign.skipped, campaign.recipientsTotal, pacingJSON,
                nextRunAt, lastError, finished,
            ])
    }

    /// The recipient query, the one place that says who receives a campaign: the subscribed
    /// members of its list, not suppressed for the tenant, narrowed by `filter` (a segment: a
    /// predicate over `c`), after contact `after` in contact-id order. `select` is what to
    /// return of each. Returns the SQL and its parameters. The cursor bounds both sides of the
    /// join: Postgres does not carry it across, and a merge join would otherwise read the
    /// contacts' key from its start for every chunk.
    static func recipientQuery(
        _ select: String, of campaign: Campaign, after: UUID?, filter: RecipientFilter?, tail: String = ""
    ) -> (sql: String, parameters: [any PostgresEncodable]) {
        var parameters: [any PostgresEncodable] = [campaign.tenantID, campaign.listID, after]
        var sql = """
            SELECT \(select)
            FROM list_members l JOIN contacts c ON c.id = l.contact_id AND c.tenant_id = l.tenant_id
            WHERE l.tenant_id = $1 AND l.list_id = $2 AND l.status = 'subscribed' AND ($3::uuid IS NULL OR l.contact_id > $3::uuid)
              AND ($3::uuid IS NULL OR c.id > $3::uuid)
              AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email)
            """
        if let filter {
            sql += "\n  AND (\(filter.sql(shiftedBy: parameters.count)))"
            parameters += filter.parameters
        }
        return (sql + tail, parameters)
    }

    /// The next `limit` recipients after contact `after`, in contact-id order.
    static func recipients(of campaign: Campaign, after: UUID?, limit: Int, filter: RecipientFilter?, on connection: PostgresConnection) throws -> [CampaignRecipient] {
        var (sql, parameters) = recipientQuery(
            "c.id, c.email, c.attributes::text AS attributes, c.time_zone", of: campaign, after: after, filter: filter)
        parameters.append(limit)
        // In the order of list_members' primary key (list_id, contact_id), so a chunk reads the
        // list's index from the cursor on rather than sorting the list.
        sql += "\nORDER BY l.contact_id LIMIT $\(parameters.count)"
        return try connection.query(sql, parameters).map { row in
            let attributes = (try? JSONDecoder().decode(JSONValue.self, from: Data(try row.string("attributes").utf8))) ?? .object([:])
            return CampaignRecipient(
                contactID: try row.uuid("id"), email: try row.string("email"), attributes: attributes, timeZone: row.optionalString("time_zone"))
        }
    }

    /// How many recipients the campaign has from the start (its progress's total).
    static func countRecipients(of campaign: Campaign, filter: RecipientFilter?, on connection: PostgresConnection) throws -> Int {
        let (sql, parameters) = recipientQuery("count(*) AS n", of: campaign, after: nil, filter: filter)
        return try connection.query(sql, parameters).first?.int("n") ?? 0
    }
}
