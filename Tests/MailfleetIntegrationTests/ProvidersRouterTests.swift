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

/// `GET /v1/providers` through the router (no sockets) on the real Postgres and Redis: the
/// key's own tenant's chain in order, each account's breaker as the fleet stores it, no secret,
/// and `unknown` circuits (not an error) when Redis cannot be reached.
@Suite("Providers API", .serialized)
struct ProvidersRouterTests {
    @Test func listsTheOwnChainWithCircuitsAndNeverSecrets() async throws {
        try await Self.run { setup, client in
            let answer = try await client.execute(uri: "/v1/providers", method: .get, headers: setup.auth(setup.readKey))
            #expect(answer.status == .ok)
            let text = String(buffer: answer.body)
            #expect(!text.contains("very-secret") && !text.contains("domain"))
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
            let providers = try #require(body["providers"] as? [[String: Any]])
            #expect(providers.map { $0["name"] as? String } == ["primary", "backup"])
            #expect(providers.map { $0["kind"] as? String } == ["sendgrid", "mailgun"])
            #expect(providers.map { $0["priority"] as? Int } == [10, 20])
            #expect(providers[0]["endpoint"] as? String == "http://127.0.0.1:9")
            #expect(providers[1]["endpoint"] == nil)
            #expect(Set(providers[0].keys) == ["id", "name", "kind", "priority", "endpoint", "circuit", "webhook_url"])
            // The webhook URL under the tracker's URL; its secret only for an admin key.
            let id = try #require(providers[0]["id"] as? String)
            #expect(providers[0]["webhook_url"] as? String == "https://track.example.com/webhooks/sendgrid/\(id)")
            #expect(!text.contains("sg-webhook-key"))
            let asAdmin = try await client.execute(uri: "/v1/providers", method: .get, headers: setup.auth(setup.adminKey))
            let adminProviders = try #require((try JSONSerialization.jsonObject(with: Data(buffer: asAdmin.body)) as? [String: Any])?["providers"] as? [[String: Any]])
            #expect(adminProviders[0]["webhook_secret"] as? String == "sg-webhook-key")
            #expect(adminProviders[1]["webhook_secret"] == nil)

            let open = try #require(providers[0]["circuit"] as? [String: Any])
            #expect(open["state"] as? String == "open")
            #expect(open["changed_at"] as? String == ISO8601.format(Date(timeIntervalSince1970: Double(setup.trippedAtMs) / 1000)))
            let until = setup.trippedAtMs + CircuitBreaker.Configuration().openBaseMs
            #expect(open["open_until"] as? String == ISO8601.format(Date(timeIntervalSince1970: Double(until) / 1000)))
            // Never tripped: closed, with no transition and no open period.
            #expect(providers[1]["circuit"] as? [String: String] == ["state": "closed"])

            // Another tenant's accounts never show; a key without `read` is refused.
            #expect(!text.contains("other-tenant"))
            let refused = try await client.execute(uri: "/v1/providers", method: .get, headers: setup.auth(setup.sendKey))
            #expect(refused.status == .forbidden)
            let anonymous = try await client.execute(uri: "/v1/providers", method: .get)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test func withoutRedisTheAccountsAreListedWithUnknownCircuits() async throws {
        try await Self.run(unreachableRedis: true) { setup, client in
            let answer = try await client.execute(uri: "/v1/providers", method: .get, headers: setup.auth(setup.readKey))
            #expect(answer.status == .ok)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any])
            let providers = try #require(body["providers"] as? [[String: Any]])
            #expect(providers.count == 2)
            #expect(providers.allSatisfy { ($0["circuit"] as? [String: String]) == ["state": "unknown"] })
        }
    }

    @Test func manyAccountsAreReadInOneRoundTripAsTheScriptLeftThem() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-cb-read")
        defer { redis.shutdown() }
        let store = CircuitBreakerStore(redis: redis, prefix: "it-cb-read-\(UUID().uuidString.prefix(8))")
        let configuration = CircuitBreaker.Configuration()
        let accounts = (0..<3).map { _ in UUID() }
        let now = 1_764_000_000_000
        // One tripped, one with a few calls recorded while closed, one never seen.
        for i in 0..<configuration.minimumCalls {
            try await store.record(account: accounts[0], outcome: .failure, durationMs: 5, configuration: configuration, nowMs: now + i)
        }
        try await store.record(account: accounts[1], outcome: .failure, durationMs: 5, configuration: configuration, nowMs: now)
        try await store.record(account: accounts[1], outcome: .success, durationMs: 5, configuration: configuration, nowMs: now + 1)
        let states = try await store.states(accounts: accounts)
        for account in accounts {
            #expect(states[account] == (try await store.state(account: account)))
        }
        #expect(states[accounts[0]]?.phase == .open)
        #expect(states[accounts[1]]?.window == [true, false])
        #expect(states[accounts[2]] == CircuitBreaker.State())
        #expect(try await store.states(accounts: []).isEmpty)
    }

    struct Setup: Sendable {
        let readKey: String
        let sendKey: String
        let adminKey: String
        let trippedAtMs: Int

        func auth(_ key: String) -> HTTPFields { [.authorization: "Bearer \(key)"] }
    }

    /// A tenant with two accounts (the first one's breaker tripped) and another tenant with one.
    static func run(unreachableRedis: Bool = false, _ test: @Sendable (Setup, any TestClientProtocol) async throws -> Void) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-providers")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-providers")
        // Nothing listens on port 9; connecting fails at once.
        let deadRedis = RedisClient(url: "redis://127.0.0.1:9/0", connections: 1, name: "it-providers-dead")
        defer {
            redis.shutdown()
            deadRedis.shutdown()
        }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "providers")
            let other = try await tenants.createTenant(name: "other")
            let primary = try await tenants.addProviderAccount(
                tenantID: tenant, name: "primary", kind: .sendgrid, endpoint: "http://127.0.0.1:9", priority: 10, secret: "SG.very-secret")
            _ = try await tenants.addProviderAccount(
                tenantID: tenant, name: "backup", kind: .mailgun, endpoint: nil, priority: 20, secret: "key-very-secret", config: ["domain": "mg.example.com"])
            _ = try await tenants.addProviderAccount(tenantID: other, name: "other-tenant", kind: .outbox, endpoint: nil, priority: 1, secret: nil)

            let prefix = "it-providers-\(UUID().uuidString.prefix(8))"
            let breakers = CircuitBreakerStore(redis: redis, prefix: prefix)
            let configuration = CircuitBreaker.Configuration()
            let trippedAt = Int(Date().timeIntervalSince1970 * 1000)
            for _ in 0..<configuration.minimumCalls {
                try await breakers.record(account: primary.id, outcome: .failure, durationMs: 5, configuration: configuration, nowMs: trippedAt)
            }
            let setup = Setup(
                readKey: try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext,
                sendKey: try await tenants.createKey(tenantID: tenant, scopes: [.send]).plaintext,
                adminKey: try await tenants.createKey(tenantID: tenant, scopes: [.admin]).plaintext, trippedAtMs: trippedAt)
            _ = try await tenants.updateProviderAccount(tenantID: tenant, account: "primary", webhookSecret: "sg-webhook-key")
            let stores = APIStores(
                messages: MessageStore(pool: pool), queue: MessageQueue(redis: redis, partitioning: Partitioning(count: 1), prefix: prefix),
                templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool), tenants: tenants,
                rateLimiter: RateLimiter(redis: redis, prefix: prefix + ":rl"),
                breakers: unreachableRedis ? CircuitBreakerStore(redis: deadRedis, prefix: prefix) : breakers)
            var apiConfiguration = APIConfiguration()
            apiConfiguration.trackerURL = "https://track.example.com/"
            let router = APIServer.router(
                configuration: apiConfiguration, stores: stores, authenticator: Authenticator(tenants: tenants, ttl: 0), readiness: [],
                logger: Logger(label: "it-providers"))
            try await Application(router: router, logger: Logger(label: "it-providers")).test(.router) { client in try await test(setup, client) }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
