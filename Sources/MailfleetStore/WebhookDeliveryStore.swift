import Foundation
import MailfleetCore
import MailfleetPostgres

/// The dispatchers' side of webhook deliveries (docs/WEBHOOKS.md): claim due deliveries with a
/// lease, give back what a replica cannot start, record attempts and their outcomes, disable
/// endpoints that keep failing, and prune. Runs as the table owner (no row-level security):
/// dispatchers work for every tenant.
public struct WebhookDeliveryStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Deliveries claimed together, with the endpoints they go to.
    public struct Claimed: Sendable {
        /// The deliveries, oldest due first.
        public var claims: [WebhookClaim]
        /// Their endpoints by id.
        public var endpoints: [UUID: WebhookEndpoint]
    }

    /// Claims up to `limit` due deliveries, none of the `excluded` endpoints', leasing them for
    /// `lease` seconds: their `next_attempt_at` moves to the lease's end, so if this replica dies
    /// they fall due again then. Deliveries whose event no longer exists fail here.
    public func claim(limit: Int, excluding excluded: [UUID], lease: TimeInterval) async throws -> Claimed {
        try await pool.transaction { connection in
            let rows = try connection.query(
                """
                WITH due AS (
                    SELECT id FROM webhook_deliveries
                    WHERE state = 'pending' AND next_attempt_at <= now() AND endpoint_id <> ALL ($2::uuid[])
                    ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED
                )
                UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $3)
                FROM due WHERE d.id = due.id
                RETURNING d.id, d.endpoint_id, d.attempts, d.event_id, d.message_id
                """, [limit, excluded, lease])
            guard !rows.isEmpty else { return Claimed(claims: [], endpoints: [:]) }
            var deliveries: [(id: Int, endpoint: UUID, attempts: Int, event: Int)] = []
            var messageIDs = Set<UUID>()
            for row in rows {
                deliveries.append((try row.int("id"), try row.uuid("endpoint_id"), try row.int("attempts"), try row.int("event_id")))
                // Deliveries made before events were partitioned, whose event was gone, have none.
                if let messageID = row.optionalString("message_id").flatMap(UUID.init(uuidString:)) { messageIDs.insert(messageID) }
            }
            var events: [Int: PostgresRow] = [:]
            // The message ids pick the events' partitions; the event ids the rows in them.
            for row in try connection.query(
                "SELECT id, tenant_id, message_id, type, detail::text AS detail, occurred_at FROM events WHERE message_id = ANY ($2::uuid[]) AND id = ANY ($1::bigint[])",
                [deliveries.map(\.event), Array(messageIDs)])
            {
                events[try row.int("id")] = row
            }
            var endpoints: [UUID: WebhookEndpoint] = [:]
            for row in try connection.query(
                "SELECT \(WebhookStore.columns) FROM webhook_endpoints WHERE id = ANY ($1::uuid[])", [Array(Set(deliveries.map(\.endpoint)))])
            {
                let endpoint = try WebhookStore.endpoint(row)
                endpoints[endpoint.id] = endpoint
            }
            var claims: [WebhookClaim] = []
            var orphans: [Int] = []
            for d in deliveries.sorted(by: { $0.id < $1.id }) {
                guard let event = events[d.event], endpoints[d.endpoint] != nil else {
                    orphans.append(d.id)
                    continue
                }
                let message = WebhookMessage(
                    deliveryID: d.id, eventID: d.event, tenantID: try event.uuid("tenant_id"), messageID: try event.uuid("message_id"),
                    type: try event.string("type"), detailJSON: try event.string("detail"), occurredAt: try event.date("occurred_at"))
                claims.append(WebhookClaim(message: message, endpointID: d.endpoint, attempts: d.attempts))
            }
            if !orphans.isEmpty {
                try connection.query(
                    """
                    UPDATE webhook_deliveries SET state = 'failed', finished_at = now(), last_error = 'the event no longer exists'
                    WHERE id = ANY ($1::bigint[])
                    """, [orphans])
            }
            return Claimed(claims: claims, endpoints: endpoints)
        }
    }

    /// The endpoints as they are now, of those of `ids` that still exist.
    public func endpoints(_ ids: [UUID]) async throws -> [UUID: WebhookEndpoint] {
        guard !ids.isEmpty else { return [:] }
        var endpoints: [UUID: WebhookEndpoint] = [:]
        for row in try await pool.query("SELECT \(WebhookStore.columns) FROM webhook_endpoints WHERE id = ANY ($1::uuid[])", [ids]) {
            let endpoint = try WebhookStore.endpoint(row)
            endpoints[endpoint.id] = endpoint
        }
        return endpoints
    }

    /// Gives back claimed deliveries this replica will not start: due again at once.
    public func release(_ deliveryIDs: [Int]) async throws {
        guard !deliveryIDs.isEmpty else { return }
        try await pool.query(
            "UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = ANY ($1::bigint[]) AND state = 'pending'", [deliveryIDs])
    }

    /// Writes attempts and what became of their deliveries, in one transaction: the attempt
    /// log, each delivery's state, the endpoints' failing streaks, and the disabling of every
    /// endpoint whose failed delivery saw no success from its first failure to its last
    /// attempt (about three days of failures). Answers the endpoints disabled.
    @discardableResult
    public func record(_ attempts: [WebhookAttemptRecord]) async throws -> [UUID] {
        guard !attempts.isEmpty else { return [] }
        let deliveries = attempts.flatMap(\.deliveries)
        let succeeded = Array(Set(attempts.filter(\.delivered).map(\.endpointID)))
        let failing = Array(Set(attempts.filter { !$0.delivered }.map(\.endpointID)).subtracting(succeeded))
        let exhausted = deliveries.filter { $0.state == .failed }.map(\.id)
        return try await pool.transaction { connection in
            try connection.query(
                """
                INSERT INTO webhook_attempts (endpoint_id, tenant_id, webhook_id, delivery_ids, status, latency_ms, error, outcome)
                SELECT u.endpoint_id, u.tenant_id, u.webhook_id, u.ids::bigint[], u.status, u.latency_ms, u.error, u.outcome
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int[], $6::int[], $7::text[], $8::text[])
                    AS u(endpoint_id, tenant_id, webhook_id, ids, status, latency_ms, error, outcome)
                WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE w.id = u.endpoint_id)
                """,
                [attempts.map(\.endpointID), attempts.map(\.tenantID), attempts.map(\.webhookID),
                 attempts.map { "{" + $0.deliveries.map { String($0.id) }.joined(separator: ",") + "}" },
                 attempts.map(\.status), attempts.map(\.latencyMs), attempts.map(\.error), attempts.map(\.outcome)])
            let errors = Dictionary(attempts.flatMap { a in a.deliveries.map { ($0.id, a.error) } }, uniquingKeysWith: { a, _ in a })
            // A retry for an endpoint disabled meanwhile waits as held.
            try connection.query(
                """
                UPDATE webhook_deliveries d SET
                    state = CASE WHEN u.state = 'pending' AND NOT w.enabled THEN 'held' ELSE u.state END,
                    attempts = d.attempts + 1, next_attempt_at = COALESCE(u.next_at, d.next_attempt_at), last_error = u.error,
                    first_failed_at = CASE WHEN u.state = 'delivered' THEN d.first_failed_at ELSE COALESCE(d.first_failed_at, now()) END,
                    finished_at = CASE WHEN u.state IN ('delivered', 'failed') THEN now() END
                FROM unnest($1::bigint[], $2::text[], $3::timestamptz[], $4::text[]) AS u(id, state, next_at, error), webhook_endpoints w
                WHERE d.id = u.id AND w.id = d.endpoint_id AND d.state = 'pending'
                """,
                [deliveries.map(\.id), deliveries.map(\.state.rawValue), deliveries.map(\.nextAttemptAt), deliveries.map { errors[$0.id] ?? nil }])
            if !succeeded.isEmpty {
                try connection.query(
                    "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ANY ($1::uuid[]) AND failing_since IS NOT NULL", [succeeded])
            }
            if !failing.isEmpty {
                try connection.query(
                    "UPDATE webhook_endpoints SET failing_since = now() WHERE id = ANY ($1::uuid[]) AND failing_since IS NULL", [failing])
            }
            guard !exhausted.isEmpty else { return [] }
            let disabled = try connection.query(
                """
                UPDATE webhook_endpoints w SET enabled = false, disabled_at = now(), updated_at = now(),
                    disabled_reason = 'every attempt failed since ' || to_char(w.failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                        || ' and delivery ' || f.id || ' used its whole retry schedule; last error: ' || COALESCE(f.last_error, 'unknown')
                FROM (
                    SELECT DISTINCT ON (endpoint_id) endpoint_id, id, first_failed_at, last_error FROM webhook_deliveries
                    WHERE id = ANY ($1::bigint[]) AND state = 'failed' ORDER BY endpoint_id, first_failed_at
                ) f
                WHERE w.id = f.endpoint_id AND w.enabled AND w.failing_since IS NOT NULL AND w.failing_since <= f.first_failed_at
                RETURNING w.id, w.tenant_id, w.disabled_reason
                """, [exhausted])
            var ids: [UUID] = []
            for row in disabled {
                let id = try row.uuid("id")
                ids.append(id)
                try AuditLog.record(
                    AuditEntry(
                        tenantID: try row.uuid("tenant_id"), actor: "mailfleet-tracker", action: "webhook.disabled", target: id.lowercasedString,
                        detail: ["reason": try row.string("disabled_reason")]), on: connection)
            }
            if !ids.isEmpty {
                try connection.query("UPDATE webhook_deliveries SET state = 'held' WHERE endpoint_id = ANY ($1::uuid[]) AND state = 'pending'", [ids])
            }
            return ids
        }
    }

    /// Deletes attempts older than the retention or beyond the newest `WebhookStore.attemptsKept`
    /// of their endpoint, and deliveries finished before the retention; answers rows deleted.
    @discardableResult
    public func prune(now: Date = Date()) async throws -> Int {
        let cutoff = now.addingTimeInterval(-WebhookStore.attemptRetention)
        var deleted = try await pool.query("DELETE FROM webhook_attempts WHERE attempted_at < $1 RETURNING 1", [cutoff]).count
        deleted += try await pool.query(
            """
            DELETE FROM webhook_attempts a USING (
                SELECT endpoint_id, (SELECT id FROM webhook_attempts x WHERE x.endpoint_id = e.endpoint_id ORDER BY id DESC OFFSET $1 LIMIT 1) AS cut
                FROM (SELECT DISTINCT endpoint_id FROM webhook_attempts) e
            ) c
            WHERE a.endpoint_id = c.endpoint_id AND c.cut IS NOT NULL AND a.id <= c.cut RETURNING 1
            """, [WebhookStore.attemptsKept]).count
        deleted += try await pool.query("DELETE FROM webhook_deliveries WHERE finished_at < $1 RETURNING 1", [cutoff]).count
        return deleted
    }

    /// Deliveries waiting (pending or held), and endpoints disabled after failing, fleet-wide.
    public func gauges() async throws -> (pending: Int, held: Int, disabledEndpoints: Int) {
        let rows = try await pool.query(
            """
            SELECT (SELECT count(*) FROM webhook_deliveries WHERE state = 'pending') AS pending,
                   (SELECT count(*) FROM webhook_deliveries WHERE state = 'held') AS held,
                   (SELECT count(*) FROM webhook_endpoints WHERE NOT enabled AND disabled_reason IS NOT NULL) AS disabled
            """)
        return (try rows[0].int("pending"), try rows[0].int("held"), try rows[0].int("disabled"))
    }
}
