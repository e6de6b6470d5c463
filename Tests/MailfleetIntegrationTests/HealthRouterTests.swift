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

/// `GET /v1/health` and `POST /v1/health/resume` through the router (no sockets) on the real
/// Postgres: the key's own tenant only; reading needs `read`, resuming `admin`.
@Suite("Health API", .serialized)
struct HealthRouterTests {
    @Test func showsTheOwnTenantsHealthAndPausesAndAnAdminKeyResumes() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-health-api")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-health-api")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "health")
            let other = try await tenants.createTenant(name: "other")
            let readKey = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let adminKey = try await tenants.createKey(tenantID: tenant, scopes: [.admin]).plaintext
            let minute = HealthWindow.minute(of: Date())
            // Counters as the worker and tracker write them: this minute, and one two hours ago (in 24 h only).
            try await pool.query(
                """
                INSERT INTO sender_health (tenant_id, domain, minute, slot, sent, delivered, hard_bounced, soft_bounced, complained) VALUES
                ($1, 'a.example', $3, 0, 100, 90, 2, 1, 1), ($1, 'a.example', $3 - 120, 1, 100, 100, 0, 0, 0), ($2, 'z.example', $3, 0, 5, 0, 0, 0, 0)
                """, [tenant, other, minute])
            try await tenants.pauseBulk(
                [(tenant, "a.example", "a.example: complaint rate 1% over 1h"), (tenant, BulkPause.wholeTenant, "tenant: complaint rate 1% over 1h"),
                 (other, "z.example", "z")],
                actor: "scheduler")

            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: "it-health-api")
            try await Application(router: router, logger: Logger(label: "it-health-api")).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, key: String, body: String? = nil) async throws -> (status: Int, body: [String: Any]) {
                    var headers: HTTPFields = [.authorization: "Bearer \(key)"]
                    if body != nil { headers[.contentType] = "application/json" }
                    let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                    return (Int(answer.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:])
                }
                let health = try await call(.get, "/v1/health", key: readKey)
                #expect(health.status == 200)
                #expect(health.body["tenant_id"] as? String == tenant.lowercasedString)
                #expect(health.body["bulk_paused"] as? Bool == true)
                let hour = try #require(health.body["last_1h"] as? [String: Any])
                let day = try #require(health.body["last_24h"] as? [String: Any])
                #expect(hour["sent"] as? Int == 100 && hour["hard_bounced"] as? Int == 2 && hour["complaint_rate"] as? Double == 0.01)
                #expect(day["sent"] as? Int == 200 && day["delivered"] as? Int == 190)
                let domains = try #require(health.body["domains"] as? [[String: Any]])
                // Only its own domains and pauses, never the other tenant's.
                #expect(domains.map { $0["domain"] as? String } == ["a.example"])
                let pauses = try #require(health.body["pauses"] as? [[String: Any]])
                #expect(pauses.count == 2)
                #expect(pauses.contains { $0["domain"] == nil && ($0["reason"] as? String)?.hasPrefix("tenant:") == true })

                #expect(try await call(.post, "/v1/health/resume", key: readKey, body: "{}").status == 403)
                #expect(try await call(.post, "/v1/health/resume", key: adminKey, body: #"{"domains":"a.example"}"#).status == 422)
                let one = try await call(.post, "/v1/health/resume", key: adminKey, body: #"{"domain":"A.example"}"#)
                #expect(one.status == 200)
                #expect((one.body["resumed"] as? [[String: Any]])?.map { $0["domain"] as? String } == ["a.example"])
                let rest = try await call(.post, "/v1/health/resume", key: adminKey, body: "{}")
                #expect((rest.body["resumed"] as? [[String: Any]])?.count == 1)
                #expect(try await call(.get, "/v1/health", key: readKey).body["bulk_paused"] as? Bool == false)
                // The other tenant's pause is untouched.
                #expect(try await tenants.bulkPauses(tenantID: other).count == 1)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
