import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's webhook endpoints, their attempt logs and resends (docs/WEBHOOKS.md). Every
/// statement here filters by tenant and runs under row-level security; changes are audited in
/// the same transaction.
public struct WebhookStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store over the same pool as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.pool = messages.pool
    }

    /// Attempts kept per endpoint; older ones are pruned, as are any older than `attemptRetention`.
    public static let attemptsKept = 1000
    /// How long attempts, and finished deliveries, are kept.
    public static let attemptRetention: TimeInterval = 7 * 86_400
    /// The default grace period of a secret rotation, in which the old secret still signs.
    public static let defaultRotationGrace: TimeInterval = 86_400
    /// The longest grace period a rotation may ask for.
    public static let maxRotationGrace: TimeInterval = 7 * 86_400

    static let columns = """
        id, tenant_id, url, event_types, enabled, batch, secret, previous_secret, previous_secret_expires_at,
        disabled_reason, disabled_at, created_at, updated_at
        """

    /// Creates an endpoint with a new secret (the answer is the only time it is shown in full).
    public func create(tenantID: UUID, url: String, eventTypes: [String], batch: Bool, enabled: Bool, actor: String) async throws -> WebhookEndpoint {
        let id = UUID()
        let secret = WebhookSecret.generate()
        return try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                INSERT INTO webhook_endpoints (id, tenant_id, url, event_types, enabled, batch, secret)
                VALUES ($1, $2, $3, $4::text[], $5, $6, $7) RETURNING \(Self.columns)
                """, [id, tenantID, url, eventTypes, enabled, batch, secret.text])
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "webhook.created", target: id.lowercasedString, detail: ["url": url]), on: connection)
            return try Self.endpoint(rows[0])
        }
    }

    /// A tenant's endpoints, oldest first, after the endpoint `after` (a previous page's last).
    public func list(tenantID: UUID, after: UUID? = nil, limit: Int = 100) async throws -> [WebhookEndpoint] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT \(Self.columns) FROM webhook_endpoints
                WHERE tenant_id = $1 AND ($2::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM webhook_endpoints WHERE id = $2::uuid))
                ORDER BY created_at, id LIMIT $3
                """, [tenantID, after, limit]
            ).map(Self.endpoint)
        }
    }

    /// One endpoint, or nil when the tenant has no such endpoint.
    public func get(tenantID: UUID, id: UUID) async throws -> WebhookEndpoint? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2", [id, tenantID]).first.map(Self.endpoint)
        }
    }

    /// Changes an endpoint; nil when the tenant has no such endpoint. Disabling holds its pending
    /// deliveries; enabling (also after an automatic disable) clears the reason and resumes them at once.
    public func update(tenantID: UUID, id: UUID, change: WebhookEndpointChange, actor: String) async throws -> WebhookEndpoint? {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                UPDATE webhook_endpoints SET url = COALESCE($3, url), event_types = COALESCE($4::text[], event_types),
                    batch = COALESCE($5, batch), enabled = COALESCE($6, enabled),
                    disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END,
                    disabled_at = CASE WHEN $6 THEN NULL WHEN $6 = false AND enabled THEN now() ELSE disabled_at END,
                    failing_since = CASE WHEN $6 THEN NULL ELSE failing_since END,
                    updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING \(Self.columns)
                """, [id, tenantID, change.url, change.eventTypes, change.batch, change.enabled])
            guard let row = rows.first else { return nil }
            if let enabled = change.enabled {
                try connection.query(
                    """
                    UPDATE webhook_deliveries SET state = $3, next_attempt_at = now()
                    WHERE endpoint_id = $1 AND tenant_id = $2 AND state = $4
                    """, [id, tenantID, enabled ? "pending" : "held", enabled ? "held" : "pending"])
            }
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "webhook.updated", target: id.lowercasedString, detail: change), on: connection)
            return try Self.endpoint(row)
        }
    }

    /// Deletes an endpoint with its deliveries and attempts; false when the tenant has no such endpoint.
    public func delete(tenantID: UUID, id: UUID, actor: String) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            let deleted = try !connection.query("DELETE FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2 RETURNING id", [id, tenantID]).isEmpty
            if deleted {
                try AuditLog.record(AuditEntry(tenantID: tenantID, actor: actor, action: "webhook.deleted", target: id.lowercasedString), on: connection)
            }
            return deleted
        }
    }

    /// Gives an endpoint a new secret; the old one keeps signing for `grace` seconds. Nil when
    /// the tenant has no such endpoint.
    public func rotateSecret(tenantID: UUID, id: UUID, grace: TimeInterval, actor: String) async throws -> WebhookEndpoint? {
        let secret = WebhookSecret.generate()
        return try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                UPDATE webhook_endpoints SET previous_secret = secret, secret = $3,
                    previous_secret_expires_at = now() + make_interval(secs => $4), updated_at = now()
                WHERE id = $1 AND tenant_id = $2 RETURNING \(Self.columns)
                """, [id, tenantID, secret.text, grace])
            guard let row = rows.first else { return nil }
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "webhook.secret_rotated", target: id.lowercasedString, detail: ["grace_seconds": grace]),
                on: connection)
            return try Self.endpoint(row)
        }
    }

    /// An endpoint's attempts, newest first, before attempt `before` (a previous page's last);
    /// nil when the tenant has no such endpoint.
    public func attempts(tenantID: UUID, endpointID: UUID, before: Int? = nil, limit: Int = 100) async throws -> [WebhookAttempt]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2", [endpointID, tenantID]).isEmpty else { return nil }
            return try connection.query(
                """
                SELECT id, endpoint_id, webhook_id, delivery_ids, status, latency_ms, error, outcome, attempted_at FROM webhook_attempts
                WHERE endpoint_id = $1 AND tenant_id = $2 AND ($3::bigint IS NULL OR id < $3::bigint)
                ORDER BY id DESC LIMIT $4
                """, [endpointID, tenantID, before, limit]
            ).map(Self.attempt)
        }
    }

    /// Sends event `eventID` to the endpoint again, as a new delivery due now (also to a
    /// disabled endpoint, where it waits as held). Answers the new delivery's id, or why not.
    public func resend(tenantID: UUID, endpointID: UUID, eventID: Int, actor: String) async throws -> WebhookResend {
        try await pool.tenantTransaction(tenantID) { connection in
            guard let endpoint = try connection.query(
                "SELECT enabled FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2", [endpointID, tenantID]).first else { return .noEndpoint }
            guard let event = try connection.query("SELECT message_id FROM events WHERE id = $1 AND tenant_id = $2", [eventID, tenantID]).first else { return .noEvent }
            let rows = try connection.query(
                """
                INSERT INTO webhook_deliveries (endpoint_id, tenant_id, event_id, message_id, state) VALUES ($1, $2, $3, $4, $5) RETURNING id
                """, [endpointID, tenantID, eventID, try event.uuid("message_id"), try endpoint.bool("enabled") ? "pending" : "held"])
            let delivery = try rows[0].int("id")
            try AuditLog.record(
                AuditEntry(tenantID: tenantID, actor: actor, action: "webhook.resent", target: endpointID.lowercasedString,
                           detail: ["event_id": eventID, "delivery_id": delivery]), on: connection)
            return .queued(deliveryID: delivery)
        }
    }

    static func endpoint(_ row: PostgresRow) throws -> WebhookEndpoint {
        let secretText = try row.string("secret")
        guard let secret = WebhookSecret(text: secretText) else { throw PostgresError(message: "webhook endpoint has an unreadable secret") }
        return WebhookEndpoint(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), url: try row.string("url"),
            eventTypes: try row.stringArray("event_types").compactMap { $0 }, enabled: try row.bool("enabled"), batch: try row.bool("batch"),
            secret: secret, previousSecret: row.optionalString("previous_secret").flatMap(WebhookSecret.init(text:)),
            previousSecretExpiresAt: try row.optionalDate("previous_secret_expires_at"), disabledReason: row.optionalString("disabled_reason"),
            disabledAt: try row.optionalDate("disabled_at"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func attempt(_ row: PostgresRow) throws -> WebhookAttempt {
        WebhookAttempt(
            id: try row.int("id"), endpointID: try row.uuid("endpoint_id"), webhookID: try row.string("webhook_id"),
            deliveryIDs: try row.stringArray("delivery_ids").compactMap { $0.flatMap { Int($0) } },
            status: row.optionalString("status").flatMap { Int($0) }, latencyMs: try row.int("latency_ms"), error: row.optionalString("error"),
            outcome: try row.string("outcome"), attemptedAt: try row.date("attempted_at"))
    }
}

/// What `WebhookStore.update` changes; nil fields stay as they are.
public struct WebhookEndpointChange: Sendable, Encodable, Equatable {
    /// A new URL.
    public var url: String?
    /// New event types (empty: every type).
    public var eventTypes: [String]?
    /// Enable or disable.
    public var enabled: Bool?
    /// Batching on or off.
    public var batch: Bool?

    /// A change.
    public init(url: String? = nil, eventTypes: [String]? = nil, enabled: Bool? = nil, batch: Bool? = nil) {
        self.url = url
        self.eventTypes = eventTypes
        self.enabled = enabled
        self.batch = batch
    }

    enum CodingKeys: String, CodingKey { case url, eventTypes = "event_types", enabled, batch }
}

/// The answer of `WebhookStore.resend`.
public enum WebhookResend: Sendable, Equatable {
    /// A new delivery was queued.
    case queued(deliveryID: Int)
    /// The tenant has no such endpoint.
    case noEndpoint
    /// The tenant has no such event.
    case noEvent
}

/// One request made to an endpoint.
public struct WebhookAttempt: Sendable, Equatable {
    /// Its id (newer attempts have larger ids).
    public var id: Int
    /// The endpoint.
    public var endpointID: UUID
    /// The `webhook-id` sent.
    public var webhookID: String
    /// The deliveries it carried.
    public var deliveryIDs: [Int]
    /// The HTTP status answered, nil when there was no answer (timeout, connection failure).
    public var status: Int?
    /// How long it took, in milliseconds.
    public var latencyMs: Int
    /// What went wrong, if it did.
    public var error: String?
    /// `delivered`, `retrying` or `failed`.
    public var outcome: String
    /// When it was made.
    public var attemptedAt: Date

    /// Creates one.
    public init(id: Int, endpointID: UUID, webhookID: String, deliveryIDs: [Int], status: Int?, latencyMs: Int, error: String?, outcome: String, attemptedAt: Date) {
        self.id = id
        self.endpointID = endpointID
        self.webhookID = webhookID
        self.deliveryIDs = deliveryIDs
        self.status = status
        self.latencyMs = latencyMs
        self.error = error
        self.outcome = outcome
        self.attemptedAt = attemptedAt
    }
}
