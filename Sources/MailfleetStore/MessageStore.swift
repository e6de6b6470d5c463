import Foundation
import MailfleetCore
import MailfleetPostgres

/// Messages and their events in Postgres, the system of record. Every method that touches
/// many messages does so in one statement (arrays unnested server-side), never one round trip
/// per message.
public struct MessageStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    // MARK: Accepting

    /// Commits many API requests in one transaction (group commit) and reports, per request,
    /// whether its messages were created or an earlier request with the same idempotency key
    /// answers instead.
    public func accept(_ requests: [AcceptRequest]) async throws -> [AcceptResult] {
        guard !requests.isEmpty else { return [] }
        // Encode outside the connection's thread: JSON work does not need to hold a connection.
        // Each distinct body is encoded and hashed once per group: a batch of one campaign
        // stores its body once and 1,000 narrow envelopes.
        var rows: [(message: Message, envelope: String, bodyKey: String)] = []
        var keys: [MessageBody: String] = [:]
        var bodyJSON: [String: String] = [:]
        for request in requests {
            for message in request.messages {
                let body = message.content.body
                let key: String
                if let known = keys[body] {
                    key = known
                } else {
                    let json = body.storageJSON
                    key = MessageBody.storageKey(ofEncoded: json)
                    keys[body] = key
                    bodyJSON[key] = String(decoding: json, as: UTF8.self)
                }
                rows.append((message, String(decoding: message.content.envelope.storageJSON, as: UTF8.self), key))
            }
        }
        let prepared = rows
        let preparedBodies = bodyJSON
        if requests.allSatisfy({ $0.idempotencyKey == nil }) {
            // Nothing to claim first: one statement, atomic on its own (no BEGIN/COMMIT trips).
            try await pool.withConnection { connection in try Self.insert(prepared, bodies: preparedBodies, on: connection) }
            return requests.map { _ in .created }
        }
        return try await pool.transaction { connection in
            // Claim idempotency keys first; a request whose key someone else holds adds nothing.
            var winners = Set<Int>()
            // Only the first request per (tenant, key) of this group may claim the key: two
            // requests with one key in one group would otherwise both see it as theirs.
            var firstByKey: [String: Int] = [:]
            for index in requests.indices {
                guard let key = requests[index].idempotencyKey else { continue }
                let name = "\(requests[index].tenantID)/\(key)"
                if firstByKey[name] == nil { firstByKey[name] = index }
            }
            let keyed = firstByKey.values.sorted()
            if !keyed.isEmpty {
                // Keys live 24 h: an expired one is free again.
                try connection.query(
                    """
                    DELETE FROM idempotency_keys i USING unnest($1::uuid[], $2::text[]) AS u(tenant_id, key)
                    WHERE i.tenant_id = u.tenant_id AND i.key = u.key AND i.created_at < now() - interval '24 hours'
                    """,
                    [keyed.map { requests[$0].tenantID }, keyed.map { requests[$0].idempotencyKey! }])
                let inserted = try connection.query(
                    """
                    INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, response)
                    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::text[])
                    ON CONFLICT (tenant_id, key) DO NOTHING
                    RETURNING tenant_id, key
                    """,
                    [
                        keyed.map { requests[$0].tenantID }, keyed.map { requests[$0].idempotencyKey! },
                        keyed.map { requests[$0].requestHash }, keyed.map { requests[$0].responseStatus },
                        keyed.map { requests[$0].responseBody },
                    ])
                let claimed = Set(try inserted.map { "\(try $0.uuid("tenant_id"))/\(try $0.string("key"))" })
                for index in keyed where claimed.contains("\(requests[index].tenantID)/\(requests[index].idempotencyKey!)") {
                    winners.insert(index)
                }
            }
            var insertIDs = Set<UUID>()
            for (index, request) in requests.enumerated() where request.idempotencyKey == nil || winners.contains(index) {
                for message in request.messages { insertIDs.insert(message.id) }
            }
            let toInsert = insertIDs.count == prepared.count ? prepared : prepared.filter { insertIDs.contains($0.message.id) }
            if !toInsert.isEmpty {
                try Self.insert(toInsert, bodies: preparedBodies, on: connection)
            }
            // Losers read the stored answer; their transaction waited for the winner's commit.
            var results: [AcceptResult] = []
            for (index, request) in requests.enumerated() {
                if let key = request.idempotencyKey, !winners.contains(index) {
                    let stored = try connection.query(
                        "SELECT request_hash, status, response FROM idempotency_keys WHERE tenant_id = $1 AND key = $2",
                        [request.tenantID, key])
                    guard let row = stored.first else { throw StoreError.idempotencyRace(key) }
                    results.append(.replay(
                        sameRequest: try row.string("request_hash") == request.requestHash,
                        status: try row.int("status"), body: try row.string("response")))
                } else {
                    results.append(.created)
                }
            }
            return results
        }
    }

    /// Inserts message rows and the bodies they name, in one statement (a data-modifying CTE
    /// writes the bodies; a body another group already stored is left as it is: the key is
    /// its hash, so the stored one is the same).
    static func insert(
        _ toInsert: [(message: Message, envelope: String, bodyKey: String)], bodies: [String: String], on connection: PostgresConnection
    ) throws {
        guard !toInsert.isEmpty else { return }
        // One row per tenant and body among the messages inserted.
        var seen = Set<BodyKey>()
        var bodyRows: [(tenantID: UUID, key: String, json: String)] = []
        for row in toInsert where seen.insert(BodyKey(tenantID: row.message.tenantID, key: row.bodyKey)).inserted {
            bodyRows.append((row.message.tenantID, row.bodyKey, bodies[row.bodyKey]!))
        }
        try connection.query(
            """
            WITH bodies AS (
                INSERT INTO message_bodies (tenant_id, key, content)
                SELECT * FROM unnest($9::uuid[], $10::text[], $11::json[])
                ON CONFLICT (tenant_id, key) DO NOTHING
            )
            INSERT INTO messages (id, tenant_id, status, priority, content, body_key, send_at, next_attempt_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::json[], $6::text[], $7::timestamptz[], $8::timestamptz[])
            """,
            [
                toInsert.map(\.message.id), toInsert.map(\.message.tenantID), toInsert.map(\.message.status.rawValue),
                toInsert.map(\.message.priority.rawValue), toInsert.map(\.envelope), toInsert.map(\.bodyKey),
                toInsert.map(\.message.sendAt), toInsert.map { $0.message.sendAt ?? $0.message.createdAt },
                bodyRows.map(\.tenantID), bodyRows.map(\.key), bodyRows.map(\.json),
            ])
    }

    // MARK: Worker side

    /// Marks the given messages as being sent by the caller, for `lease` seconds, and returns
    /// the ones it could claim: queued and due, or `sending` under an expired lease. Messages
    /// already sent, failed, or claimed by a live worker are left out, which is what keeps a
    /// duplicated queue entry from becoming a duplicate send.
    public func claim(_ ids: [UUID], lease: Double) async throws -> [Message] {
        guard !ids.isEmpty else { return [] }
        // Bodies come back in the same round trip, once per distinct body (on the first row
        // that names it; CASE evaluates the lookup only there): a campaign's 1,000 messages
        // bring one body, a single send its own.
        let rows = try await pool.query(
            """
            WITH claimed AS (
                UPDATE messages SET status = 'sending', lease_until = now() + make_interval(secs => $2), updated_at = now()
                WHERE id = ANY($1::uuid[])
                  AND (status = 'queued' OR (status = 'sending' AND lease_until < now()))
                  AND next_attempt_at <= now() + interval '2 seconds'
                RETURNING id, tenant_id, priority, content, body_key, attempts, send_at, created_at
            )
            SELECT c.*,
                CASE WHEN c.body_key IS NOT NULL AND row_number() OVER (PARTITION BY c.tenant_id, c.body_key) = 1
                    THEN (SELECT b.content FROM message_bodies b WHERE b.tenant_id = c.tenant_id AND b.key = c.body_key)
                END AS body
            FROM claimed c
            """, [ids, lease])
        let decoder = JSONDecoder()
        var claimed: [(message: Message, body: BodyKey?)] = []
        var bodies: [BodyKey: MessageBody] = [:]
        for row in rows {
            let tenantID = try row.uuid("tenant_id")
            let message = Message(
                id: try row.uuid("id"), tenantID: tenantID,
                priority: Priority(rawValue: try row.string("priority")) ?? .bulk, status: .sending,
                content: try Self.content(try row.string("content"), decoder),
                attempts: try row.int("attempts"), sendAt: try row.optionalDate("send_at"), createdAt: try row.date("created_at"))
            let key = row.optionalString("body_key").map { BodyKey(tenantID: tenantID, key: $0) }
            if let key, let json = row.optionalString("body") {
                bodies[key] = try MessageBody(storageJSON: json.utf8) ?? decoder.decode(MessageBody.self, from: Data(json.utf8))
            }
            claimed.append((message, key))
        }
        return try claimed.map { entry in
            guard let key = entry.body else { return entry.message }
            guard let body = bodies[key] else { throw StoreError.missingBody(messageID: entry.message.id) }
            var message = entry.message
            message.content = message.content.with(body)
            return message
        }
    }

    /// Stored content: read directly, or through `JSONDecoder` when it is not of the stored shape.
    static func content(_ json: String, _ decoder: JSONDecoder) throws -> MessageContent {
        if let content = MessageContent(storageJSON: json.utf8) { return content }
        return try decoder.decode(MessageContent.self, from: Data(json.utf8))
    }

    /// For queue entries `claim` did not hand out: when each may be tried again, or nil when the
    /// message is finished (or unknown) and its entry should simply leave the queue.
    public func unclaimedRetryTimes(_ ids: [UUID]) async throws -> [UUID: Date?] {
        guard !ids.isEmpty else { return [:] }
        let rows = try await pool.query(
            """
            SELECT id, status, GREATEST(COALESCE(lease_until, now()), next_attempt_at) AS retry_at
            FROM messages WHERE id = ANY($1::uuid[])
            """, [ids])
        var result: [UUID: Date?] = [:]
        for id in ids { result[id] = .some(nil) }
        for row in rows {
            let status = MessageStatus(rawValue: try row.string("status")) ?? .failed
            result[try row.uuid("id")] = status.isFinal ? .some(nil) : .some(try row.date("retry_at"))
        }
        return result
    }

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
                UPDATE messages m SET status = 'queued', attempts = m.attempts + 1, next_attempt_at = u.next_at,
                    enqueued_at = now(), last_error = u.reason, lease_until = NULL, updated_at = now()
                FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, reason, next_at)
                WHERE m.id = u.id AND m.status <> 'sent'
                """,
                [outcomes.deferred.map(\.messageID), outcomes.deferred.map(\.reason), outcomes.deferred.map(\.nextAttemptAt)])
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

    // MARK: Reading

    /// A tenant's message with its events, or nil (also for another tenant's message).
    public func message(id: UUID, tenantID: UUID) async throws -> MessageRecord? {
        // Under row-level security as well as the tenant filter (TenantScope).
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT m.id, m.tenant_id, m.status, m.priority, m.content, b.content AS body, m.attempts, m.send_at,
                       m.created_at, m.updated_at, m.sent_at, m.last_error, m.provider_message_id
                FROM messages m LEFT JOIN message_bodies b ON b.tenant_id = m.tenant_id AND b.key = m.body_key
                WHERE m.id = $1 AND m.tenant_id = $2
                """, [id, tenantID])
            guard let row = rows.first else { return nil }
            let decoder = JSONDecoder()
            var content = try Self.content(try row.string("content"), decoder)
            if let body = row.optionalString("body") {
                content = content.with(try MessageBody(storageJSON: body.utf8) ?? decoder.decode(MessageBody.self, from: Data(body.utf8)))
            }
            let message = Message(
                id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"),
                priority: Priority(rawValue: try row.string("priority")) ?? .bulk,
                status: MessageStatus(rawValue: try row.string("status")) ?? .queued,
                content: content,
                attempts: try row.int("attempts"), sendAt: try row.optionalDate("send_at"), createdAt: try row.date("created_at"))
            let events = try connection.query(
                "SELECT type, detail, occurred_at FROM events WHERE message_id = $1 AND tenant_id = $2 ORDER BY occurred_at, id",
                [id, tenantID])
            // `accepted` and `sent` are status transitions the row itself records (created_at,
            // sent_at): they are shown from there rather than stored twice.
            var history = [EventRecord(type: EventType.accepted.rawValue, detail: "{}", occurredAt: message.createdAt)]
            if let sentAt = try row.optionalDate("sent_at") {
                var detail = "{}"
                if let pmid = row.optionalString("provider_message_id") { detail = "{\"provider_message_id\":\(jsonQuote(pmid))}" }
                history.append(EventRecord(type: EventType.sent.rawValue, detail: detail, occurredAt: sentAt))
            }
            for event in events {
                history.append(EventRecord(type: try event.string("type"), detail: try event.string("detail"), occurredAt: try event.date("occurred_at")))
            }
            history.sort { $0.occurredAt < $1.occurredAt }
            return MessageRecord(
                message: message, updatedAt: try row.date("updated_at"), sentAt: try row.optionalDate("sent_at"),
                lastError: row.optionalString("last_error"), providerMessageID: row.optionalString("provider_message_id"),
                events: history)
        }
    }

    /// Messages that should be on the queue but show no progress since `olderThan` seconds:
    /// queued and due but not enqueued recently, or `sending` under an expired lease. The
    /// scheduler enqueues them again; the claim in `claim(_:lease:)` makes a duplicate harmless.
    public func stalled(olderThan seconds: Double, limit: Int) async throws -> [(id: UUID, priority: Priority)] {
        let rows = try await pool.query(
            """
            UPDATE messages SET enqueued_at = now()
            WHERE id IN (
                SELECT id FROM messages
                WHERE status IN ('queued', 'sending') AND enqueued_at < now() - make_interval(secs => $1)
                  AND next_attempt_at <= now() AND (status = 'queued' OR lease_until < now())
                ORDER BY enqueued_at LIMIT $2
                FOR UPDATE SKIP LOCKED)
            RETURNING id, priority
            """, [seconds, limit])
        return try rows.map { (try $0.uuid("id"), Priority(rawValue: try $0.string("priority")) ?? .bulk) }
    }

    /// Deletes idempotency keys older than 24 h, at most `limit` at a time; returns how many.
    @discardableResult
    public func purgeExpiredIdempotencyKeys(limit: Int = 10_000) async throws -> Int {
        try await pool.query(
            """
            DELETE FROM idempotency_keys WHERE ctid IN (
                SELECT ctid FROM idempotency_keys WHERE created_at < now() - interval '24 hours' LIMIT $1)
            """, [limit]).affectedRows
    }

    /// Message counts by status, for the CLI and metrics.
    public func countsByStatus() async throws -> [String: Int] {
        let rows = try await pool.query("SELECT status, count(*) AS n FROM messages GROUP BY status")
        var counts: [String: Int] = [:]
        for row in rows { counts[try row.string("status")] = try row.int("n") }
        return counts
    }
}

/// One API request's worth of messages to commit.
public struct AcceptRequest: Sendable {
    /// The tenant sending.
    public var tenantID: UUID
    /// The caller's Idempotency-Key, if given.
    public var idempotencyKey: String?
    /// A hash of the request body, to tell a replay from a different request with the same key.
    public var requestHash: String
    /// The status the response will carry (stored for replays).
    public var responseStatus: Int
    /// The response body (stored for replays).
    public var responseBody: String
    /// The messages to insert.
    public var messages: [Message]

    /// Creates a request.
    public init(tenantID: UUID, idempotencyKey: String?, requestHash: String, responseStatus: Int, responseBody: String, messages: [Message]) {
        self.tenantID = tenantID
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.messages = messages
    }
}

/// What happened to one `AcceptRequest`.
public enum AcceptResult: Sendable, Equatable {
    /// Its messages are committed.
    case created
    /// An earlier request holds the idempotency key; `sameRequest` tells whether the bodies match.
    case replay(sameRequest: Bool, status: Int, body: String)
}

/// A message with its delivery details and history, as `GET /v1/messages/{id}` shows it.
public struct MessageRecord: Sendable {
    /// The message.
    public var message: Message
    /// Last change.
    public var updatedAt: Date
    /// When a provider accepted it.
    public var sentAt: Date?
    /// The last error, if any.
    public var lastError: String?
    /// The provider's id for it.
    public var providerMessageID: String?
    /// Its events, oldest first, starting with `accepted`.
    public var events: [EventRecord]
}

/// One event in a message's history.
public struct EventRecord: Sendable {
    /// The event type.
    public var type: String
    /// Details as JSON text.
    public var detail: String
    /// When it happened.
    public var occurredAt: Date
}

/// Outcomes of provider calls to write in one transaction.
public struct OutcomeBatch: Sendable {
    /// A provider accepted the message.
    public struct Sent: Sendable {
        public var messageID: UUID
        public var tenantID: UUID
        public var accountID: UUID
        public var providerMessageID: String?
        public init(messageID: UUID, tenantID: UUID, accountID: UUID, providerMessageID: String?) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.accountID = accountID
            self.providerMessageID = providerMessageID
        }
    }

    /// The message will be tried again at `nextAttemptAt`.
    public struct Deferred: Sendable {
        public var messageID: UUID
        public var tenantID: UUID
        public var reason: String
        public var nextAttemptAt: Date
        public init(messageID: UUID, tenantID: UUID, reason: String, nextAttemptAt: Date) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.reason = reason
            self.nextAttemptAt = nextAttemptAt
        }
    }

    /// The message failed for good.
    public struct Failed: Sendable {
        public var messageID: UUID
        public var tenantID: UUID
        public var reason: String
        /// False when no provider was called (e.g. the tenant has no provider).
        public var countsAsAttempt: Bool
        public init(messageID: UUID, tenantID: UUID, reason: String, countsAsAttempt: Bool = true) {
            self.messageID = messageID
            self.tenantID = tenantID
            self.reason = reason
            self.countsAsAttempt = countsAsAttempt
        }
    }

    public var sent: [Sent] = []
    public var deferred: [Deferred] = []
    public var failed: [Failed] = []
    /// Further events to write with these outcomes (e.g. `bounced` for a recipient refused
    /// inside a sent message), in the same transaction.
    public var recipientEvents: [NewEvent] = []

    /// An empty batch.
    public init() {}

    /// True when there is nothing to write.
    public var isEmpty: Bool { sent.isEmpty && deferred.isEmpty && failed.isEmpty && recipientEvents.isEmpty }

    /// The events these outcomes add to message histories. `sent` adds none: the message row
    /// records it (sent_at, provider message id, account), which halves the hot path's writes.
    public var events: [NewEvent] {
        deferred.map { NewEvent(tenantID: $0.tenantID, messageID: $0.messageID, type: .deferred, detail: ["reason": $0.reason, "next_attempt_at": ISO8601.format($0.nextAttemptAt)]) }
            + failed.map { NewEvent(tenantID: $0.tenantID, messageID: $0.messageID, type: .failed, detail: ["reason": $0.reason]) }
            + recipientEvents
    }
}

/// A JSON string literal.
func jsonQuote(_ s: String) -> String {
    var json = JSONBytes(capacity: s.utf8.count + 2)
    json.value(s)
    return json.string
}

/// A stored body's identity: bodies are stored per tenant, keyed by their hash.
struct BodyKey: Hashable, Sendable {
    var tenantID: UUID
    var key: String
}

/// Storage errors that are not Postgres's own.
public enum StoreError: Error, CustomStringConvertible {
    /// An idempotency key vanished between conflict and read (expired mid-request).
    case idempotencyRace(String)
    /// A message names a body that is not stored (never expected: both are written in one
    /// transaction).
    case missingBody(messageID: UUID)

    public var description: String {
        switch self {
        case .idempotencyRace(let key): return "idempotency key \(key) changed while the request ran; retry it"
        case .missingBody(let id): return "message \(id.lowercasedString) names a body that is not stored"
        }
    }
}
