import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
import Testing

/// The operator's `/status` page through the router (no sockets) on the real Postgres and
/// Redis: off (404) without `MAILFLEET_STATUS_TOKEN`, 401 without the credential or with a
/// tenant key, 200 with it as a basic-auth password or bearer token; and `/status.json`
/// showing what the queue, the heartbeats, the breakers and the dead letters hold.
@Suite("Status page", .serialized)
struct StatusPageTests {
    static let token = "operator-secret-for-tests"

    struct Setup: Sendable {
        let tenant: UUID
        let tenantKey: String
        let pool: PostgresPool
        let queue: MessageQueue
        let heartbeats: WorkerHeartbeatStore
        let breakers: CircuitBreakerStore
        let board: StatusBoard
    }

    static func basic(_ user: String, _ password: String) -> HTTPFields {
        [.authorization: "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
    }

    @Test func withoutTheSettingThePageIsOff() async throws {
        try await Self.run(token: nil) { _, client in
            for path in ["/status", "/status.json"] {
                let answer = try await client.execute(uri: path, method: .get, headers: Self.basic("ops", Self.token))
                #expect(answer.status == .notFound, "\(path)")
            }
        }
    }

    @Test func onlyTheOperatorCredentialOpensIt() async throws {
        try await Self.run(token: Self.token) { setup, client in
            for path in ["/status", "/status.json"] {
                let anonymous = try await client.execute(uri: path, method: .get)
                #expect(anonymous.status == .unauthorized, "\(path)")
                #expect(anonymous.headers[.wwwAuthenticate]?.hasPrefix("Basic realm=") == true)
                let refusals: [HTTPFields] = [
                    Self.basic("ops", "wrong"), Self.basic("ops", Self.token + "x"), Self.basic("ops", ""),
                    [.authorization: "Bearer \(setup.tenantKey)"], [.authorization: "Bearer wrong"],
                    [.authorization: "Basic not-base64!"], [.authorization: Self.token],
                ]
                for headers in refusals {
                    let answer = try await client.execute(uri: path, method: .get, headers: headers)
                    #expect(answer.status == .unauthorized, "\(path) with \(headers)")
                }
                for headers in [Self.basic("ops", Self.token), Self.basic("", Self.token), [.authorization: "Bearer \(Self.token)"]] as [HTTPFields] {
                    let answer = try await client.execute(uri: path, method: .get, headers: headers)
                    #expect(answer.status == .ok, "\(path) with \(headers)")
                    #expect(answer.headers[.cacheControl] == "no-store")
                }
            }
            let page = try await client.execute(uri: "/status", method: .get, headers: Self.basic("ops", Self.token))
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let html = String(buffer: page.body)
            #expect(html.contains("<title>Mailfleet status</title>") && html.contains("/status.json"))
            // Offline: nothing is loaded from another origin.
            let addresses = html.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
            #expect(!addresses.contains("http://") && !addresses.contains("https://") && !html.contains("src=") && !html.contains("href="))
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
        }
    }

    @Test func theSnapshotShowsQueuesWorkersProvidersFailuresAndThroughput() async throws {
        try await Self.run(token: Self.token) { setup, client in
            // Queue: 2 transactional and 1 bulk ready, 1 delayed, 1 of them then leased.
            try await setup.queue.enqueue([
                .init(id: UUID(), priority: .transactional, tenantID: UUID()), .init(id: UUID(), priority: .transactional, tenantID: UUID()),
                .init(id: UUID(), priority: .bulk, tenantID: UUID()), .init(id: UUID(), priority: .bulk, tenantID: UUID(), dueAt: Date().addingTimeInterval(3600)),
            ])
            _ = try await setup.queue.fetch(partition: 0, max: 1, leaseSeconds: 60)
            let depth = try await setup.queue.depth()

            // Accounts: a name with markup stays plain text in the JSON; the first one's breaker open.
            let tenants = TenantStore(pool: setup.pool)
            let primary = try await tenants.addProviderAccount(
                tenantID: setup.tenant, name: "<b>primary</b>", kind: .sendgrid, endpoint: "http://127.0.0.1:9", priority: 10, secret: "SG.secret")
            let backup = try await tenants.addProviderAccount(tenantID: setup.tenant, name: "backup", kind: .outbox, endpoint: nil, priority: 20, secret: nil)
            let nowMs = Int(Date().timeIntervalSince1970 * 1000)
            for _ in 0..<CircuitBreaker.Configuration().minimumCalls {
                try await setup.breakers.record(account: primary.id, outcome: .failure, durationMs: 5, configuration: .init(), nowMs: nowMs)
            }

            // A dead letter whose reason holds markup.
            let store = MessageStore(pool: setup.pool)
            let message = Message(id: UUID(), tenantID: setup.tenant, priority: .bulk, status: .queued, content: content(1))
            _ = try await store.accept([AcceptRequest(tenantID: setup.tenant, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [message])])
            var outcomes = OutcomeBatch()
            outcomes.failed = [OutcomeBatch.Failed(messageID: message.id, tenantID: setup.tenant, reason: "550 <script>alert(1)</script>")]
            try await store.record(outcomes)

            // Two live workers (one called the primary account), one whose heartbeat is too old.
            try await setup.heartbeats.beat(
                WorkerHeartbeat(
                    id: "w1", host: "box", pid: 11, startedAtMs: nowMs - 60_000, beatAtMs: nowMs - 1_000, sent: 40, failed: 1, deferred: 2,
                    accounts: [.init(accountID: primary.id, calls: 3, meanMs: 12.34)]), ttlMs: 60_000)
            try await setup.heartbeats.beat(
                WorkerHeartbeat(id: "w2", host: "box", pid: 12, startedAtMs: nowMs - 60_000, beatAtMs: nowMs - 500, sent: 2), ttlMs: 60_000)
            try await setup.heartbeats.beat(
                WorkerHeartbeat(id: "gone", host: "box", pid: 13, startedAtMs: nowMs - 90_000, beatAtMs: nowMs - 30_000, sent: 1_000), ttlMs: 60_000)

            // Two samples a moment apart: w1 sent 20 more in 0.5 s.
            await setup.board.sample()
            try await setup.heartbeats.beat(
                WorkerHeartbeat(
                    id: "w1", host: "box", pid: 11, startedAtMs: nowMs - 60_000, beatAtMs: nowMs - 500, sent: 60, failed: 1, deferred: 2,
                    accounts: [.init(accountID: primary.id, calls: 3, meanMs: 12.34)]), ttlMs: 60_000)
            await setup.board.sample()

            let answer = try await client.execute(uri: "/status.json", method: .get, headers: [.authorization: "Bearer \(Self.token)"])
            #expect(answer.status == .ok)
            #expect(answer.headers[.contentType] == "application/json")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
            #expect(body["unavailable"] as? [String] == [])

            let queues = try #require(body["queues"] as? [String: Int])
            #expect(queues == [
                "ready_transactional": depth.readyTransactional, "ready_bulk": depth.readyBulk, "leased": depth.leased, "delayed": depth.delayed,
            ])
            #expect(queues["ready_transactional"]! + queues["ready_bulk"]! == 2 && queues["leased"] == 1 && queues["delayed"] == 1)
            #expect(body["dead_letters"] as? Int == 1)

            let workers = try #require(body["workers"] as? [String: Any])
            #expect(workers["alive"] as? Int == 2)
            #expect(workers["sent"] as? Int == 62 && workers["failed"] as? Int == 1 && workers["deferred"] as? Int == 2)
            let list = try #require(workers["list"] as? [[String: Any]])
            #expect(list.map { $0["id"] as? String } == ["w1", "w2"])

            let providers = try #require(body["providers"] as? [[String: Any]])
            #expect(providers.map { $0["account"] as? String } == ["<b>primary</b>", "backup"])
            #expect(providers.map { $0["account_id"] as? String } == [primary.id.lowercasedString, backup.id.lowercasedString])
            #expect(providers.allSatisfy { $0["tenant"] as? String == "status" })
            #expect((providers[0]["circuit"] as? [String: Any])?["state"] as? String == "open")
            #expect((providers[1]["circuit"] as? [String: Any])?["state"] as? String == "closed")
            #expect(providers[0]["latency_ms"] as? Double == 12.3 && providers[0]["calls"] as? Int == 3)
            #expect(providers[1]["latency_ms"] is NSNull && providers[1]["calls"] as? Int == 0)
            #expect(!String(buffer: answer.body).contains("SG.secret"))

            let failures = try #require(body["recent_failures"] as? [[String: Any]])
            #expect(failures.count == 1)
            #expect(failures.first?["message_id"] as? String == message.id.lowercasedString)
            #expect(failures.first?["tenant"] as? String == "status")
            #expect(failures.first?["error"] as? String == "550 <script>alert(1)</script>")
            #expect(failures.first?["failed_at"] is String)

            let throughput = try #require(body["throughput"] as? [String: Any])
            #expect(throughput["interval_seconds"] as? Double == 1)
            let points = try #require(throughput["points"] as? [[String: Any]])
            #expect(points.count == 2)
            // The first sample is only a baseline for workers that ran before it; the second
            // has w1's 20 messages over 0.5 s.
            #expect(points.map { $0["sent_per_second"] as? Double } == [0, 40])
        }
    }

    @Test func aRedisOutageLeavesThePostgresPartsShowing() async throws {
        try await Self.run(token: Self.token, unreachableRedis: true) { _, client in
            let answer = try await client.execute(uri: "/status.json", method: .get, headers: [.authorization: "Bearer \(Self.token)"])
            #expect(answer.status == .ok)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
            #expect(body["queues"] is NSNull && body["workers"] is NSNull)
            #expect(body["dead_letters"] as? Int == 0)
            let unavailable = try #require(body["unavailable"] as? [String])
            #expect(unavailable.contains { $0.hasPrefix("queues (Redis)") } && unavailable.contains { $0.hasPrefix("workers (Redis)") })
        }
    }

    @Test func heartbeatsAreReadUntilTheyExpireOrAreRemoved() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-heartbeats")
        defer { redis.shutdown() }
        let store = WorkerHeartbeatStore(redis: redis, prefix: "it-hb-\(UUID().uuidString.prefix(8))")
        let nowMs = Int(Date().timeIntervalSince1970 * 1000)
        let a = WorkerHeartbeat(id: "a", host: "h", pid: 1, startedAtMs: nowMs - 5_000, beatAtMs: nowMs, sent: 3)
        let b = WorkerHeartbeat(id: "b", host: "h", pid: 2, startedAtMs: nowMs - 5_000, beatAtMs: nowMs, sent: 4)
        try await store.beat(a, ttlMs: 60_000)
        try await store.beat(b, ttlMs: 300)
        #expect(Set(try await store.heartbeats(sinceMs: nowMs - 1_000, nowMs: nowMs).map(\.id)) == ["a", "b"])
        // Only heartbeats since the given time are read.
        #expect(try await store.heartbeats(sinceMs: nowMs + 1, nowMs: nowMs).isEmpty)
        // b's record expires; a's is removed on shutdown.
        try await Task.sleep(for: .milliseconds(600))
        #expect(try await store.heartbeats(sinceMs: nowMs - 1_000, nowMs: nowMs).map(\.id) == ["a"])
        try await store.remove(worker: "a")
        #expect(try await store.heartbeats(sinceMs: nowMs - 1_000, nowMs: nowMs).isEmpty)
        // Ids silent for ten minutes leave the index.
        #expect(try await redis.command("ZCARD", store.index).int == 1)
        _ = try await store.heartbeats(sinceMs: nowMs, nowMs: nowMs + 700_000)
        #expect(try await redis.command("ZCARD", store.index).int == 0)
    }

    static func run(
        token: String?, unreachableRedis: Bool = false, _ test: @Sendable (Setup, any TestClientProtocol) async throws -> Void
    ) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-status")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-status")
        // Nothing listens on port 9; connecting fails at once.
        let deadRedis = RedisClient(url: "redis://127.0.0.1:9/0", connections: 1, name: "it-status-dead")
        defer {
            redis.shutdown()
            deadRedis.shutdown()
        }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "status")
            let prefix = "it-status-\(UUID().uuidString.prefix(8))"
            let queueRedis = unreachableRedis ? deadRedis : redis
            let queue = MessageQueue(redis: queueRedis, partitioning: Partitioning(count: 1), prefix: prefix)
            let breakers = CircuitBreakerStore(redis: queueRedis, prefix: prefix)
            let stores = APIStores(
                messages: MessageStore(pool: pool), queue: queue, templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool),
                tenants: tenants, rateLimiter: RateLimiter(redis: redis, prefix: prefix + ":rl"), breakers: breakers)
            let logger = Logger(label: "it-status")
            let board = StatusBoard(stores: stores, logger: logger)
            var configuration = APIConfiguration()
            configuration.statusToken = token
            let setup = Setup(
                tenant: tenant, tenantKey: try await tenants.createKey(tenantID: tenant, scopes: [.send, .read]).plaintext, pool: pool,
                queue: queue, heartbeats: WorkerHeartbeatStore(beside: queue), breakers: breakers, board: board)
            let router = APIServer.router(
                configuration: configuration, stores: stores, authenticator: Authenticator(tenants: tenants, ttl: 0), readiness: [], logger: logger,
                status: board)
            try await Application(router: router, logger: logger).test(.router) { client in try await test(setup, client) }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
