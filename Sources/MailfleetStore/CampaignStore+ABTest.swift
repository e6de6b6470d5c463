import Foundation
import MailfleetCore
import MailfleetPostgres

/// A/B tests of campaigns (docs/CAMPAIGNS.md "A/B tests"). Expansion runs twice over the
/// recipients in contact-id order: first it makes messages for the test cohort only (each
/// contact's cohort and variant a keyed hash of the campaign and contact ids, so a resumed
/// campaign puts everyone where they were), then the campaign is `testing` until the decision,
/// which is recorded in the transaction that resets the cursor; the second pass makes the
/// winner for every recipient still without a message of the campaign (the unique index on
/// campaign and contact answers that), so nobody gets two and nobody is left out.
extension CampaignStore {
    /// What one call of `decideNextABTest` did.
    public enum ABTestStep: Sendable, Equatable {
        /// No test was due for a decision.
        case idle
        /// A test was decided; the rest of its recipients get the winner.
        case decided(campaignID: UUID, decision: ABDecision)
        /// A test is not decided yet; it is looked at again at `until`.
        case waiting(campaignID: UUID, until: Date)
        /// The decision step failed for this campaign; it backs off alone until `until`.
        case failed(campaignID: UUID, failures: Int, until: Date, error: String)
    }

    /// Decides the `testing` campaign due longest ago, if its time (or early, its sample) has
    /// come: the winner, its statistics and the cursor reset go in one transaction, so a crash
    /// either leaves the test undecided or decided for good, never decided twice.
    /// A failure after the campaign was taken is charged to it alone (`chargingFailure`), so a
    /// test that cannot be decided does not hold up the runner's other campaigns.
    public func decideNextABTest(now: Date = Date(), backoff: CampaignBackoff = CampaignBackoff()) async throws -> ABTestStep {
        try await chargingFailure(now: now, backoff: backoff, step: "A/B decision") { taken in
            try await decideABTest(now: now, taken: taken)
        } failed: { expansion in
            guard case .failed(let id, let failures, let until, let error) = expansion else { return .idle }
            return .failed(campaignID: id, failures: failures, until: until, error: error)
        }
    }

    private func decideABTest(now: Date, taken: Claim) async throws -> ABTestStep {
        try await pool.transaction { connection in
            guard let row = try connection.query(
                """
                SELECT * FROM campaigns WHERE state = 'testing' AND next_run_at <= $1
                ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED
                """, [now]).first else { return .idle }
            taken.campaignID = try row.uuid("id")
            let campaign = try Self.campaign(from: row)
            guard let test = campaign.abTest, campaign.isABTest else {
                // Not a test (cannot happen through the API): let expansion finish it.
                try connection.query("UPDATE campaigns SET state = 'running', next_run_at = $2, updated_at = now() WHERE id = $1", [campaign.id, now])
                return .waiting(campaignID: campaign.id, until: now)
            }
            let counts = try Self.variantCounts(campaignID: campaign.id, variants: campaign.variants.count, on: connection)
            let result = Self.result(of: campaign, test: test, counts: counts)
            let deadline = campaign.abTestEndsAt ?? now
            guard let decision = ABDecision.decide(result, test: test, deadlineReached: now >= deadline, now: now) else {
                // With an early stop, look again every minute; else at the deadline.
                let next = test.minConversions == nil ? deadline : min(deadline, now.addingTimeInterval(60))
                try connection.query("UPDATE campaigns SET next_run_at = $2, updated_at = now() WHERE id = $1", [campaign.id, next])
                return .waiting(campaignID: campaign.id, until: next)
            }
            try connection.query(
                """
                UPDATE campaigns SET ab_decision = $2::jsonb, state = 'running', cursor = NULL, next_run_at = $3, last_error = NULL, updated_at = now()
                WHERE id = $1
                """, [campaign.id, try Self.json(decision), now])
            try AuditLog.record(
                AuditEntry(
                    tenantID: campaign.tenantID, actor: "scheduler", action: "campaign.ab_decided", target: campaign.id.lowercasedString,
                    detail: ["winner": decision.winnerName, "rule": decision.rule.rawValue]),
                on: connection)
            return .decided(campaignID: campaign.id, decision: decision)
        }
    }

    /// What `abReport` found.
    public enum ABReportLookup: Sendable, Equatable {
        /// The tenant has no such campaign.
        case notFound
        /// The campaign has no A/B test.
        case noTest
        /// The report.
        case report(ABTestReport)
    }

    /// A campaign's A/B report: counts per variant from `campaign_variant_stats`, statistics as
    /// they stand, and the decision once taken.
    public func abReport(id: UUID, tenantID: UUID) async throws -> ABReportLookup {
        try await pool.tenantTransaction(tenantID) { connection in
            guard let campaign = try Self.fetch(id: id, tenantID: tenantID, lock: false, on: connection) else { return .notFound }
            let counts = try Self.variantCounts(campaignID: id, variants: campaign.variants.count, on: connection)
            return ABTestReport(campaign: campaign, counts: counts).map { .report($0) } ?? .noTest
        }
    }

    /// The test's statistics on `counts` (the test cohort's messages and conversions).
    public static func result(of campaign: Campaign, test: ABTest, counts: [CampaignVariantCounts]) -> ABTestResult {
        ABTestResult.evaluate(
            names: campaign.variants.map(\.name), sent: counts.map(\.sent), conversions: counts.map { $0.conversions(test.metric) },
            metric: test.metric, significance: test.significance)
    }

    /// Each variant's counts from `campaign_variant_stats` (a few rows whatever the campaign's size).
    static func variantCounts(campaignID: UUID, variants: Int, on connection: PostgresConnection) throws -> [CampaignVariantCounts] {
        var counts = Array(repeating: CampaignVariantCounts(), count: variants)
        for row in try connection.query("SELECT variant, type, count FROM campaign_variant_stats WHERE campaign_id = $1", [campaignID]) {
            let variant = try row.int("variant"), n = try row.int("count")
            guard counts.indices.contains(variant) else { continue }
            switch try row.string("type") {
            case "made": counts[variant].sent = n
            case "delivered": counts[variant].delivered = n
            case "opened": counts[variant].opened = n
            case "clicked": counts[variant].clicked = n
            case "bounced": counts[variant].bounced = n
            case "unsubscribed": counts[variant].unsubscribed = n
            case "complained": counts[variant].complained = n
            default: break
            }
        }
        return counts
    }

    /// One chunk of an A/B-tested campaign, from `expandNext` once the chunk's size is known
    /// (pacing and quota as for any campaign). Before the decision it makes the test cohort's
    /// messages and passes over the rest; at the end of that pass the campaign waits as
    /// `testing`. After the decision it makes the winner for everyone still without a message.
    static func expandABTest(
        _ campaign: Campaign, pacing: CampaignPacing, filter: RecipientFilter?, size: Int, ledger: QuotaLedger?, periods: UsagePeriods, now: Date,
        on connection: PostgresConnection
    ) throws -> Expansion {
        var campaign = campaign, pacing = pacing
        guard let test = campaign.abTest else { preconditionFailure("only A/B-tested campaigns come here") }
        let decision = campaign.abDecision
        var chunkFilter = filter
        if decision != nil {
            let notMade = RecipientFilter(sql: "NOT EXISTS (SELECT 1 FROM messages made WHERE made.campaign_id = $1 AND made.contact_id = c.id)", parameters: [campaign.id])
            chunkFilter = filter.map { RecipientFilter(sql: "(\($0.sql)) AND (\(notMade.sql(shiftedBy: $0.parameters.count)))", parameters: $0.parameters + notMade.parameters) }
                ?? notMade
        }
        let recipients = try Self.recipients(of: campaign, after: campaign.cursor, limit: size, filter: chunkFilter, on: connection)
        guard let last = recipients.last else {
            if decision == nil {
                // The cohort is made; a resumed test keeps the deadline it had.
                let ends = campaign.abTestEndsAt ?? now.addingTimeInterval(Double(test.decideAfterMinutes) * 60)
                campaign.state = .testing
                try Self.save(campaign, pacing: pacing, nextRunAt: test.minConversions == nil ? ends : now, lastError: campaign.lastError, on: connection)
                try connection.query("UPDATE campaigns SET ab_test_ends_at = $2 WHERE id = $1", [campaign.id, ends])
                return .waiting(campaignID: campaign.id, until: ends, reason: "A/B test: deciding by \(ISO8601.format(ends))")
            }
            campaign.state = .done
            campaign.recipientsTotal = campaign.expanded + campaign.skipped
            try Self.save(campaign, pacing: pacing, nextRunAt: nil, lastError: campaign.lastError, finished: true, on: connection)
            return .finished(campaignID: campaign.id)
        }

        let share = test.share(recipients: campaign.recipientsTotal ?? 0)
        var made: [(recipient: CampaignRecipient, submission: MessageSubmission, variant: Int)] = []
        var skipped: [String] = []
        for recipient in recipients {
            let variant: Int
            if let decision {
                variant = decision.winner
            } else {
                guard let assigned = ABTest.assignment(campaignID: campaign.id, contactID: recipient.contactID, share: share, variants: campaign.variants.count)
                else { continue }
                variant = assigned
            }
            if let submission = campaign.submission(for: recipient, variant: variant, now: now) {
                made.append((recipient, submission, variant))
            } else {
                skipped.append("\(recipient.email): not a valid address")
            }
        }
        // Only the test cohort's messages carry their variant; the winner's go out as plain ones.
        return try Self.storeChunk(
            campaign, pacing: pacing, made: made.map { ($0.recipient, $0.submission, decision == nil ? $0.variant : nil) },
            templates: campaign.variantTemplates, skipped: skipped, last: last, ledger: ledger, periods: periods, now: now, on: connection)
    }

    /// `value` as JSON text for a jsonb parameter.
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }
}
