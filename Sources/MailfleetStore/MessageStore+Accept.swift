import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// A message row ready to insert: the message, its envelope JSON and its body's key.
    typealias PreparedRow = (message: Message, envelope: String, bodyKey: String)

    /// Commits many API requests in one transaction (group commit) and reports, per request,
    /// whether its messages were created, an earlier request with the same idempotency key
    /// answers instead, or the tenant's quota refuses it. `IdempotencyArbitration` and
    /// `QuotaLedger` decide; this runs their statements. `now` picks the quota periods counted.
    public func accept(_ requests: [AcceptRequest], now: Date = Date()) async throws -> [AcceptResult] {
        guard !requests.isEmpty else { return [] }
        // Encode outside the connection's thread: JSON work does not need to hold a connection.
        var prepared = PreparedMessages()
        // Each request's rows, by position in `prepared.rows`.
        var spans: [Range<Int>] = []
        for request in requests {
            let start = prepared.rows.count
            for message in request.messages { prepared.append(message) }
            spans.append(start..<prepared.rows.count)
        }
        let preparedRows = prepared.rows
        let preparedSpans = spans
        let preparedBodies = prepared.bodies
        let periods = UsagePeriods(now: now)
        let arbitration = IdempotencyArbitration(requests: requests)
        if arbitration.claimsNothing {
            // Nothing to claim and (the usual case) no tenant of the group under a quota: one
            // statement, atomic on its own (no BEGIN/COMMIT trips). It inserts nothing when a
            // tenant has a quota; the transaction below then decides under the usage row locks.
            let inserted = try await pool.withConnection { connection in
                try Self.insert(preparedRows, bodies: preparedBodies, periods: periods, unlessQuota: true, on: connection)
            }
            if inserted != nil { return requests.map { _ in .created } }
        }
        return try await pool.transaction { connection in
            // Claim idempotency keys first; a request whose key someone else holds adds nothing.
            var arbitration = arbitration
            if !arbitration.claimsNothing { try Self.claimKeys(&arbitration, on: connection) }
            let inserting = arbitration.inserting
            // Quotas: each request of a limited tenant is admitted whole or refused whole, in order.
            var ledgers = try Self.lockUsage(tenantIDs: Array(Set(inserting.map { requests[$0].tenantID })), periods: periods, on: connection)
            var refusals: [Int: QuotaRefusal] = [:]
            for index in inserting {
                let request = requests[index]
                guard var ledger = ledgers[request.tenantID] else { continue }
                if let refusal = ledger.admit(request.messages.countedAgainstQuota) { refusals[index] = refusal }
                ledgers[request.tenantID] = ledger
            }
            let admitted = inserting.filter { refusals[$0] == nil }
            if !refusals.isEmpty {
                // A refused request stores nothing, not even its key: the same key may be retried
                // once the quota allows it.
                let refused = refusals.keys.filter { requests[$0].idempotencyKey != nil }.sorted()
                if !refused.isEmpty {
                    try connection.query(
                        "DELETE FROM idempotency_keys i USING unnest($1::uuid[], $2::text[]) AS u(tenant_id, key) WHERE i.tenant_id = u.tenant_id AND i.key = u.key",
                        [refused.map { requests[$0].tenantID }, refused.map { requests[$0].idempotencyKey! }])
                }
            }
            let toInsert = admitted.count == requests.count ? preparedRows : admitted.flatMap { preparedRows[preparedSpans[$0]] }
            _ = try Self.insert(toInsert, bodies: preparedBodies, periods: periods, unlessQuota: false, on: connection)
            // Losers read the stored answer; their transaction waited for the winner's commit.
            switch arbitration.answer(stored: try Self.storedAnswers(arbitration.keysToRead, on: connection)) {
            case .results(let results):
                return results.enumerated().map { index, result in refusals[index].map(AcceptResult.overQuota) ?? result }
            // Thrown inside the transaction: the whole group rolls back, for the caller to retry.
            case .keyVanished(let key): throw StoreError.idempotencyRace(key)
            }
        }
    }

    /// Frees the claimants' expired keys (keys live 24 h), claims the free ones and tells the
    /// arbitration which it got.
    private static func claimKeys(_ arbitration: inout IdempotencyArbitration, on connection: PostgresConnection) throws {
        let claims = arbitration.claims
        let tenantIDs = claims.map(\.key.tenantID), keys = claims.map(\.key.key)
        try connection.query(
            """
            DELETE FROM idempotency_keys i USING unnest($1::uuid[], $2::text[]) AS u(tenant_id, key)
            WHERE i.tenant_id = u.tenant_id AND i.key = u.key AND i.created_at < now() - interval '24 hours'
            """,
            [tenantIDs, keys])
        let inserted = try connection.query(
            """
            INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, response)
            SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[])
            ON CONFLICT (tenant_id, key) DO NOTHING
            RETURNING tenant_id, key
            """,
            [tenantIDs, keys, claims.map(\.request.requestHash), claims.map(\.request.responseStatus), claims.map(\.request.responseBody)])
        arbitration.claimed(Set(try inserted.map { IdempotencyArbitration.Key(tenantID: try $0.uuid("tenant_id"), key: try $0.string("key")) }))
    }

    /// The answers stored under keys, in one statement.
    private static func storedAnswers(
        _ keys: [IdempotencyArbitration.Key], on connection: PostgresConnection
    ) throws -> [IdempotencyArbitration.Key: IdempotencyArbitration.StoredAnswer] {
        guard !keys.isEmpty else { return [:] }
        let rows = try connection.query(
            """
            SELECT i.tenant_id, i.key, i.request_hash, i.status, i.response
            FROM idempotency_keys i JOIN unnest($1::uuid[], $2::text[]) AS u(tenant_id, key)
              ON i.tenant_id = u.tenant_id AND i.key = u.key
            """,
            [keys.map(\.tenantID), keys.map(\.key)])
        var answers: [IdempotencyArbitration.Key: IdempotencyArbitration.StoredAnswer] = [:]
        for row in rows {
            let key = IdempotencyArbitration.Key(tenantID: try row.uuid("tenant_id"), key: try row.string("key"))
            answers[key] = .init(requestHash: try row.string("request_hash"), status: try row.int("status"), body: try row.string("response"))
        }
        return answers
    }

    /// Inserts message rows and the bodies they name and counts them in `tenant_usage`, in one
    /// statement (data-modifying CTEs write the bodies and the counts; a body another group
    /// already stored is left as it is: the key is its hash, so the stored one is the same).
    /// With `unlessQuota` it writes nothing when a tenant of the rows has a quota, and returns
    /// nil: such tenants are counted under a lock (`lockUsage`), in a transaction. Otherwise it
    /// returns the rows inserted. Campaign rows (`skippingCampaignDuplicates`, one campaign, under
    /// its row lock) skip a contact the campaign already has a message for, and are counted as
    /// inserted; other rows never have one, and the test is left out for them. A unique index
    /// cannot say it: `messages` is partitioned by id, and a unique index must hold the id.
    static func insert(
        _ toInsert: [PreparedRow], bodies: [String: String], periods: UsagePeriods, unlessQuota: Bool,
        skippingCampaignDuplicates: Bool = false, on connection: PostgresConnection
    ) throws -> Int? {
        guard !toInsert.isEmpty else { return 0 }
        // One row per tenant and body among the messages inserted.
        var seen = Set<BodyKey>()
        var bodyRows: [(tenantID: UUID, key: String, json: String)] = []
        var counted: [UUID: Int] = [:]
        for row in toInsert {
            if seen.insert(BodyKey(tenantID: row.message.tenantID, key: row.bodyKey)).inserted {
                bodyRows.append((row.message.tenantID, row.bodyKey, bodies[row.bodyKey]!))
            }
            counted[row.message.tenantID, default: 0] += row.message.status == .queued ? 1 : 0
        }
        let usage = counted.sorted { $0.key.uuidString < $1.key.uuidString }
        // Unlimited tenants' counts spread over slots 1...7 so concurrent commits of one tenant
        // do not queue on one row lock; limited tenants' are written to slot 0, the row
        // `lockUsage` locks, under that lock.
        let slot = unlessQuota ? Int.random(in: 1...UsagePeriods.spreadSlots) : 0
        let rows = try connection.query(
            """
            WITH open AS (
                SELECT NOT $16::bool OR NOT EXISTS (
                    SELECT 1 FROM tenants WHERE id = ANY($12::uuid[]) AND (daily_quota IS NOT NULL OR monthly_quota IS NOT NULL)
                ) AS ok
            ), bodies AS (
                INSERT INTO message_bodies (tenant_id, key, content)
                SELECT * FROM unnest($9::uuid[], $10::text[], $11::json[]) WHERE (SELECT ok FROM open)
                ON CONFLICT (tenant_id, key) DO NOTHING
            ), inserted AS (
                INSERT INTO messages (id, tenant_id, status, priority, content, body_key, send_at, next_attempt_at, batch_id, campaign_id, contact_id)
                SELECT * FROM unnest(
                    $1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::json[], $6::text[], $7::timestamptz[], $8::timestamptz[], $18::text[],
                    $19::uuid[], $20::uuid[])
                AS u(id, tenant_id, status, priority, content, body_key, send_at, next_attempt_at, batch_id, campaign_id, contact_id)
                WHERE (SELECT ok FROM open)
                \(skippingCampaignDuplicates ? "AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.campaign_id = u.campaign_id AND m.contact_id = u.contact_id)" : "")
                RETURNING status
            ), usage AS (
                INSERT INTO tenant_usage (tenant_id, period, period_start, slot, count)
                SELECT u.tenant_id, p.period, p.start::date, $17,
                    \(skippingCampaignDuplicates ? "LEAST(u.n, (SELECT count(*) FROM inserted WHERE status = 'queued'))" : "u.n")
                FROM unnest($12::uuid[], $13::bigint[]) AS u(tenant_id, n)
                CROSS JOIN (VALUES ('daily', $14::text), ('monthly', $15::text)) AS p(period, start)
                WHERE (SELECT ok FROM open) AND u.n > 0
                ORDER BY u.tenant_id, p.period
                ON CONFLICT (tenant_id, period, period_start, slot) DO UPDATE SET count = tenant_usage.count + excluded.count
            )
            SELECT ok, (SELECT count(*) FROM inserted) AS inserted FROM open
            """,
            [
                toInsert.map(\.message.id), toInsert.map(\.message.tenantID), toInsert.map(\.message.status.rawValue),
                toInsert.map(\.message.priority.rawValue), toInsert.map(\.envelope), toInsert.map(\.bodyKey),
                toInsert.map(\.message.sendAt), toInsert.map { $0.message.sendAt ?? $0.message.createdAt },
                bodyRows.map(\.tenantID), bodyRows.map(\.key), bodyRows.map(\.json),
                usage.map(\.key), usage.map(\.value), periods.day, periods.month, unlessQuota, slot, toInsert.map(\.message.batchID),
                toInsert.map(\.message.campaignID), toInsert.map(\.message.contactID),
            ])
        guard let row = rows.first, try row.bool("ok") else { return nil }
        return try row.int("inserted")
    }

    /// Locks the usage rows of the tenants among `tenantIDs` that have a quota (their slot-0
    /// rows of the periods holding now, created at zero when missing) and returns a ledger per
    /// such tenant with its limits and counts. Commits of a limited tenant wait on these locks,
    /// in tenant order, so its counts are exact across API replicas.
    static func lockUsage(tenantIDs: [UUID], periods: UsagePeriods, on connection: PostgresConnection) throws -> [UUID: QuotaLedger] {
        guard !tenantIDs.isEmpty else { return [:] }
        let rows = try connection.query(
            """
            WITH limited AS (
                SELECT id, daily_quota, monthly_quota FROM tenants
                WHERE id = ANY($1::uuid[]) AND (daily_quota IS NOT NULL OR monthly_quota IS NOT NULL)
            ), locked AS (
                INSERT INTO tenant_usage (tenant_id, period, period_start, slot, count)
                SELECT l.id, p.period, p.start::date, 0, 0
                FROM limited l CROSS JOIN (VALUES ('daily', $2::text), ('monthly', $3::text)) AS p(period, start)
                ORDER BY l.id, p.period
                ON CONFLICT (tenant_id, period, period_start, slot) DO UPDATE SET count = tenant_usage.count
                RETURNING tenant_id, period, count
            )
            SELECT l.id, l.daily_quota, l.monthly_quota,
                (SELECT k.count FROM locked k WHERE k.tenant_id = l.id AND k.period = 'daily')
                  + (SELECT COALESCE(sum(u.count), 0) FROM tenant_usage u
                     WHERE u.tenant_id = l.id AND u.period = 'daily' AND u.period_start = $2::date AND u.slot > 0) AS daily_used,
                (SELECT k.count FROM locked k WHERE k.tenant_id = l.id AND k.period = 'monthly')
                  + (SELECT COALESCE(sum(u.count), 0) FROM tenant_usage u
                     WHERE u.tenant_id = l.id AND u.period = 'monthly' AND u.period_start = $3::date AND u.slot > 0) AS monthly_used
            FROM limited l
            """, [tenantIDs, periods.day, periods.month])
        var ledgers: [UUID: QuotaLedger] = [:]
        for row in rows {
            let quota = TenantQuota(daily: row.optionalString("daily_quota").flatMap { Int($0) }, monthly: row.optionalString("monthly_quota").flatMap { Int($0) })
            ledgers[try row.uuid("id")] = QuotaLedger(
                quota: quota, usedToday: try row.int("daily_used"), usedThisMonth: try row.int("monthly_used"), now: periods.now)
        }
        return ledgers
    }
}

/// Messages encoded for insertion: each row's envelope JSON and body key, and each distinct
/// body's JSON once (a campaign chunk or a batch of one body stores it once).
struct PreparedMessages {
    private(set) var rows: [MessageStore.PreparedRow] = []
    /// Body JSON by key.
    private(set) var bodies: [String: String] = [:]
    private var keys: [MessageBody: String] = [:]

    /// Encodes `message` (and its body, unless an earlier message had the same one).
    mutating func append(_ message: Message) {
        let body = message.content.body
        let key: String
        if let known = keys[body] {
            key = known
        } else {
            let json = body.storageJSON
            key = MessageBody.storageKey(ofEncoded: json)
            keys[body] = key
            bodies[key] = String(decoding: json, as: UTF8.self)
        }
        rows.append((message, String(decoding: message.content.envelope.storageJSON, as: UTF8.self), key))
    }
}

/// The quota periods a commit counts in, as `tenant_usage` keys them.
struct UsagePeriods: Sendable {
    /// Slots 1...this spread unlimited tenants' counts (slot 0 is the locked one).
    static let spreadSlots = 7
    let now: Date
    let day: String
    let month: String

    init(now: Date) {
        self.now = now
        day = QuotaPeriod.daily.key(of: now)
        month = QuotaPeriod.monthly.key(of: now)
    }
}

extension [Message] {
    /// The messages a quota counts: the ones to be sent (suppressed ones are not).
    var countedAgainstQuota: Int { reduce(0) { $0 + ($1.status == .queued ? 1 : 0) } }
}
