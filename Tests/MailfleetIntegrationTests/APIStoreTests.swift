import Foundation
import Hummingbird
import Logging
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// A migrated fresh database with two tenants.
struct TwoTenants {
    let pool: PostgresPool
    let a: UUID
    let b: UUID

    static func make() async throws -> TwoTenants {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-api")
        try await Migrator(pool: pool).migrate()
        let tenants = TenantStore(pool: pool)
        return TwoTenants(pool: pool, a: try await tenants.createTenant(name: "a"), b: try await tenants.createTenant(name: "b"))
    }
}

@Suite("API keys, audit, rate limits, row-level security", .serialized)
struct APIStoreTests {
    @Test func keysAreListedRevokedAndRotatedAndEveryChangeIsAudited() async throws {
        let db = try await TwoTenants.make()
        let tenants = TenantStore(pool: db.pool)
        let key = try await tenants.createKey(tenantID: db.a, scopes: [.send, .read], actor: "test")
        #expect(key.plaintext.hasPrefix("mf_live_\(key.id)_"))
        #expect(try await tenants.authenticate(key.plaintext)?.tenantID == db.a)

        // Listing shows ids and scopes, never the secret or its hash.
        let listed = try await tenants.keys(tenantID: db.a)
        #expect(listed.map(\.id) == [key.id])
        #expect(listed[0].scopes == [.send, .read])
        #expect(listed[0].revokedAt == nil)
        #expect(try await tenants.keys(tenantID: db.b).isEmpty)

        // Rotation with a grace period: both work until the grace ends; the new key has the same scopes.
        let rotated = try #require(try await tenants.rotateKey(id: key.id, grace: 3600, actor: "test"))
        #expect(rotated.record.scopes == [.send, .read])
        let old = try #require(try await tenants.authenticate(key.plaintext))
        #expect(old.revokesAt != nil)
        #expect(try await tenants.authenticate(rotated.key.plaintext)?.tenantID == db.a)

        // Rotation without grace revokes at once; a revoked key cannot be rotated again.
        let again = try #require(try await tenants.rotateKey(id: rotated.key.id, actor: "test"))
        #expect(try await tenants.authenticate(rotated.key.plaintext) == nil)
        #expect(try await tenants.rotateKey(id: rotated.key.id) == nil)

        // Revoking ends the grace period early.
        #expect(try await tenants.revokeKey(id: key.id, actor: "test")?.isRevoked() == true)
        #expect(try await tenants.authenticate(key.plaintext) == nil)
        #expect(try await tenants.authenticate(again.key.plaintext) != nil)
        #expect(try await tenants.revokeKey(id: "nosuchid") == nil)

        let audit = try await AuditLog(pool: db.pool).entries(tenantID: db.a)
        #expect(audit.map(\.action) == ["key.revoked", "key.rotated", "key.rotated", "key.created", "tenant.created"])
        #expect(audit.allSatisfy { $0.tenantID == db.a })
        #expect(audit[0].actor == "test" && audit[0].target == key.id)
        #expect(try await AuditLog(pool: db.pool).entries().count == 6)
        await db.pool.shutdown()
    }

    @Test func aRevokedKeyStopsWorkingOnceTheCacheLapses() async throws {
        let db = try await TwoTenants.make()
        let tenants = TenantStore(pool: db.pool)
        let key = try await tenants.createKey(tenantID: db.a, scopes: [.send])
        let request = Request(
            head: .init(method: .post, scheme: "http", authority: "x", path: "/v1/messages", headerFields: [.authorization: "Bearer \(key.plaintext)"]),
            body: .init(buffer: ByteBuffer()))
        // A zero TTL stands for "the cache has lapsed": the next request sees the revocation.
        let uncached = Authenticator(tenants: tenants, ttl: 0)
        #expect(try await uncached.identify(request).tenantID == db.a)
        try await tenants.revokeKey(id: key.id)
        do {
            _ = try await uncached.identify(request)
            Issue.record("a revoked key still authenticates")
        } catch {
            #expect(error.status == .unauthorized)
        }
        // A cached answer outlives the revocation until its TTL: that is the documented bound.
        let live = try await tenants.createKey(tenantID: db.a, scopes: [.send])
        let cached = Authenticator(tenants: tenants, ttl: 3600)
        let liveRequest = Request(
            head: .init(method: .post, scheme: "http", authority: "x", path: "/v1/messages", headerFields: [.authorization: "Bearer \(live.plaintext)"]),
            body: .init(buffer: ByteBuffer()))
        #expect(try await cached.identify(liveRequest).tenantID == db.a)
        try await tenants.revokeKey(id: live.id)
        #expect(try await cached.identify(liveRequest).tenantID == db.a)
        await db.pool.shutdown()
    }

    @Test func theLuaLimiterMatchesThePureGCRA() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-rl")
        defer { redis.shutdown() }
        let limiter = RateLimiter(redis: redis, prefix: "it-rl-\(UUID().uuidString.prefix(8))")
        let limit = RateLimit(limit: 3, periodMs: 60_000)
        var decisions: [RateLimitDecision] = []
        for _ in 0..<4 { decisions.append(try await limiter.check("api:t", limit: limit)) }
        #expect(decisions.map(\.allowed) == [true, true, true, false])
        #expect(decisions.prefix(3).map(\.remaining) == [2, 1, 0])
        // Milliseconds pass between calls, so the refusal's wait is at most one interval.
        #expect(decisions[3].retryAfterMs > 0 && decisions[3].retryAfterMs <= 20_000)
        #expect(decisions[3].resetMs > 40_000 && decisions[3].resetMs <= 60_000)
        // Another subject has its own budget.
        #expect(try await limiter.check("api:u", limit: limit).remaining == 2)
    }

    @Test func theLuaLimiterCountsEachRequestAsOneIntervalEvenWhenThatIsUnderAMillisecond() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-rl")
        defer { redis.shutdown() }
        let limiter = RateLimiter(redis: redis, prefix: "it-rl-\(UUID().uuidString.prefix(8))")
        // 6,000,000 a minute: each request uses 10 µs of the allowance. Rounded up to whole
        // milliseconds, 1,000 requests would have used a second's worth (100,000 requests).
        let limit = RateLimit(limit: 6_000_000)
        var last: RateLimitDecision?
        for _ in 0..<1_000 { last = try await limiter.check("api:t", limit: limit) }
        #expect(last?.allowed == true)
        #expect((last?.remaining ?? 0) >= 6_000_000 - 1_000)
    }

    @Test func rowLevelSecurityHidesOtherTenantsEvenWithoutATenantFilter() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let mine = Message(id: UUID(), tenantID: db.a, priority: .bulk, status: .queued, content: content(1), createdAt: Date())
        let theirs = Message(id: UUID(), tenantID: db.b, priority: .bulk, status: .queued, content: content(2), createdAt: Date())
        _ = try await store.accept([
            AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "x", responseStatus: 202, responseBody: "{}", messages: [mine]),
            AcceptRequest(tenantID: db.b, idempotencyKey: nil, requestHash: "y", responseStatus: 202, responseBody: "{}", messages: [theirs]),
        ])
        try await db.pool.query("INSERT INTO events (tenant_id, message_id, type) VALUES ($1, $2, 'sent'), ($3, $4, 'sent')", [db.a, mine.id, db.b, theirs.id])
        let template = MessageTemplate(subject: "s", text: "t", html: nil)
        _ = try await TemplateStore(pool: db.pool).create(tenantID: db.a, name: "a", template: template)
        _ = try await TemplateStore(pool: db.pool).create(tenantID: db.b, name: "b", template: template)
        _ = try await SuppressionStore(pool: db.pool).add(tenantID: db.a, address: try EmailAddress(email: "x@example.com"), reason: "manual")
        _ = try await SuppressionStore(pool: db.pool).add(tenantID: db.b, address: try EmailAddress(email: "y@example.com"), reason: "manual")
        _ = try await TenantStore(pool: db.pool).createKey(tenantID: db.a, scopes: [.read])
        _ = try await TenantStore(pool: db.pool).createKey(tenantID: db.b, scopes: [.read])

        // Deliberately forgetful queries: no tenant filter at all.
        let tables = ["messages", "events", "templates", "template_versions", "suppressions", "api_keys"]
        let seen = try await db.pool.tenantTransaction(db.a) { connection in
            try tables.map { table in
                try connection.query("SELECT DISTINCT tenant_id FROM \(table)").map { try $0.uuid("tenant_id") }
            }
        }
        for (table, tenants) in zip(tables, seen) { #expect(tenants == [db.a], "\(table) leaked rows") }
        // Writing another tenant's row is refused too.
        await #expect(throws: PostgresError.self) {
            try await db.pool.tenantTransaction(db.a) { connection in
                try connection.query("INSERT INTO suppressions (tenant_id, email) VALUES ($1, 'z@example.com')", [db.b])
            }
        }
        // Without a tenant set, the role sees nothing.
        let none = try await db.pool.transaction { connection in
            try connection.execute("SET LOCAL ROLE \(TenantScope.role)")
            return try connection.query("SELECT count(*) AS n FROM messages").first!.int("n")
        }
        #expect(none == 0)
        // The role does not outlive the transaction on a pooled connection.
        let after = try await db.pool.query("SELECT current_user AS u, count(*) AS n FROM messages").first!
        #expect(try after.int("n") == 2)
        #expect(try after.string("u") != TenantScope.role)
        // The tenant-scoped reads answer nil across tenants.
        #expect(try await store.message(id: theirs.id, tenantID: db.a) == nil)
        #expect(try await store.message(id: mine.id, tenantID: db.a)?.events.map(\.type) == ["accepted", "sent"])
        await db.pool.shutdown()
    }

    /// Every table holding tenants' rows (a `tenant_id` column) that the tenant role may read
    /// has row-level security on and a policy by tenant (its USING also checks writes when it has
    /// no WITH CHECK). A policy missing its expression hides every row, and no other test of the
    /// table's feature would say why (a merge once cut one off).
    @Test func everyTenantTableTheTenantRoleReadsHasAPolicyByTenant() async throws {
        let db = try await TwoTenants.make()
        let rows = try await db.pool.query(
            """
            SELECT c.relname AS name, c.relrowsecurity AS secured,
                (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid
                    AND pg_get_expr(p.polqual, p.polrelid) LIKE '%tenant_id%mailfleet.tenant_id%') AS policies
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND has_table_privilege($1, c.oid, 'SELECT')
              AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            ORDER BY c.relname
            """, [TenantScope.role])
        #expect(rows.count > 10)
        for row in rows {
            let name = try row.string("name")
            #expect(try row.bool("secured") && row.int("policies") >= 1, "\(name): row-level security without a tenant policy")
        }
        await db.pool.shutdown()
    }

    @Test func templatesKeepVersionsAndSuppressionsNormaliseAddresses() async throws {
        let db = try await TwoTenants.make()
        let templates = TemplateStore(pool: db.pool)
        let created = try await templates.create(tenantID: db.a, name: "welcome", template: MessageTemplate(subject: "v1", text: "t", html: nil))
        #expect(created.version == 1)
        let second = try #require(try await templates.addVersion(tenantID: db.a, id: created.id, template: MessageTemplate(subject: "v2", text: nil, html: "<p>h</p>")))
        #expect(second.version == 2)
        #expect(try await templates.get(tenantID: db.a, id: created.id)?.template.subject == "v2")
        #expect(try await templates.get(tenantID: db.a, id: created.id, version: 1)?.template.subject == "v1")
        #expect(try await templates.get(tenantID: db.b, id: created.id) == nil)
        #expect(try await templates.addVersion(tenantID: db.b, id: created.id, template: MessageTemplate(subject: "x", text: "x", html: nil)) == nil)
        #expect(try await templates.delete(tenantID: db.b, id: created.id) == false)
        #expect(try await templates.list(tenantID: db.a).map(\.version) == [2])
        #expect(try await templates.latest(tenantID: db.a, ids: [created.id])[created.id]?.subject == "v2")
        #expect(try await templates.delete(tenantID: db.a, id: created.id))
        #expect(try await templates.get(tenantID: db.a, id: created.id) == nil)

        let suppressions = SuppressionStore(pool: db.pool)
        _ = try await suppressions.add(tenantID: db.a, address: try EmailAddress(email: "Bob@Bücher.DE"), reason: "bounce")
        #expect(try await suppressions.suppressed(tenantID: db.a, among: ["bob@xn--bcher-kva.de", "other@example.com"]) == ["bob@xn--bcher-kva.de"])
        #expect(try await suppressions.suppressed(tenantID: db.b, among: ["bob@xn--bcher-kva.de"]).isEmpty)
        #expect(try await suppressions.list(tenantID: db.a, after: nil, limit: 10).map(\.reason) == ["bounce"])
        #expect(try await suppressions.remove(tenantID: db.b, address: try EmailAddress(email: "bob@bücher.de")) == false)
        #expect(try await suppressions.remove(tenantID: db.a, address: try EmailAddress(email: "bob@bücher.de")))
        await db.pool.shutdown()
    }
}

@Suite("Idempotency keys", .serialized)
struct IdempotencyStoreTests {
    @Test func keysArePerTenantReplayTheFirstAnswerAndExpireAfter24Hours() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        func request(_ tenant: UUID, hash: String, body: String) -> AcceptRequest {
            AcceptRequest(
                tenantID: tenant, idempotencyKey: "order-1", requestHash: hash, responseStatus: 202, responseBody: body,
                messages: [Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .queued, content: content(), createdAt: Date())])
        }
        #expect(try await store.accept([request(db.a, hash: "h1", body: "first")]) == [.created])
        #expect(try await store.accept([request(db.a, hash: "h1", body: "second")]) == [.replay(sameRequest: true, status: 202, body: "first")])
        #expect(try await store.accept([request(db.a, hash: "h2", body: "third")]) == [.replay(sameRequest: false, status: 202, body: "first")])
        // The same key belongs to each tenant separately.
        #expect(try await store.accept([request(db.b, hash: "h2", body: "theirs")]) == [.created])
        // Two requests with one key in the same group commit: one message.
        let twins = try await store.accept([request(db.a, hash: "h9", body: "x"), request(db.a, hash: "h9", body: "y")].map {
            var r = $0; r.idempotencyKey = "order-2"; return r
        })
        #expect(twins.filter { $0 == .created }.count == 1)
        // After 24 h the key is free again.
        try await db.pool.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'order-1'")
        #expect(try await store.accept([request(db.a, hash: "h3", body: "fourth")]) == [.created])
        #expect(try await db.pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 4)
        await db.pool.shutdown()
    }
}
