import Foundation
import MailfleetCore
import MailfleetPostgres

extension MessageStore {
    /// A message row ready to insert: the message, its envelope JSON and its body's key.
    typealias PreparedRow = (message: Message, envelope: String, bodyKey: String)

    /// Commits many API requests in one transaction (group commit) and reports, per request,
    /// whether its messages were created or an earlier request with the same idempotency key
    /// answers instead. `IdempotencyArbitration` decides; this runs its statements.
    public func accept(_ requests: [AcceptRequest]) async throws -> [AcceptResult] {
        guard !requests.isEmpty else { return [] }
        // Encode outside the connection's thread: JSON work does not need to hold a connection.
        // Each distinct body is encoded and hashed once per group: a batch of one campaign
        // stores its body once and 1,000 narrow envelopes.
        var rows: [PreparedRow] = []
        // Each request's rows, by position in `rows`.
        var spans: [Range<Int>] = []
        var keys: [MessageBody: String] = [:]
        var bodyJSON: [String: String] = [:]
        for request in requests {
            let start = rows.count
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
            spans.append(start..<rows.count)
        }
        let prepared = rows
        let preparedSpans = spans
        let preparedBodies = bodyJSON
        let arbitration = IdempotencyArbitration(requests: requests)
        if arbitration.claimsNothing {
            // Nothing to claim first: one statement, atomic on its own (no BEGIN/COMMIT trips).
            try await pool.withConnection { connection in try Self.insert(prepared, bodies: preparedBodies, on: connection) }
            return requests.map { _ in .created }
        }
        return try await pool.transaction { connection in
            // Claim idempotency keys first; a request whose key someone else holds adds nothing.
            var arbitration = arbitration
            try Self.claimKeys(&arbitration, on: connection)
            let inserting = arbitration.inserting
            let toInsert = inserting.count == requests.count ? prepared : inserting.flatMap { prepared[preparedSpans[$0]] }
            try Self.insert(toInsert, bodies: preparedBodies, on: connection)
            // Losers read the stored answer; their transaction waited for the winner's commit.
            switch arbitration.answer(stored: try Self.storedAnswers(arbitration.keysToRead, on: connection)) {
            case .results(let results): return results
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

    /// Inserts message rows and the bodies they name, in one statement (a data-modifying CTE
    /// writes the bodies; a body another group already stored is left as it is: the key is
    /// its hash, so the stored one is the same).
    static func insert(
        _ toInsert: [PreparedRow], bodies: [String: String], on connection: PostgresConnection
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
}
