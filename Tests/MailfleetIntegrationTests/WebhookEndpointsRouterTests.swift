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

/// `/v1/webhook-endpoints` through the router (no sockets) on the real Postgres: scopes, the
/// secret shown once, validation, rotation, the tenant wall, resend and the attempt log.
@Suite("Webhook endpoints API", .serialized)
struct WebhookEndpointsRouterTests {
    @Test func endpointsAreManagedUnderTheTenantsKeys() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-hooks-api")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-hooks-api")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "hooks")
            let other = try await tenants.createTenant(name: "other")
            let admin = try await tenants.createKey(tenantID: tenant, scopes: [.admin]).plaintext
            let read = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let otherAdmin = try await tenants.createKey(tenantID: other, scopes: [.admin]).plaintext
            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: "it-hooks-api")
            try await Application(router: router, logger: Logger(label: "it-hooks-api")).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, key: String, body: String? = nil) async throws -> (Int, [String: Any]) {
                    let answer = try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                        body: body.map { ByteBuffer(string: $0) })
                    return (Int(answer.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:])
                }
                // A read key cannot create; bad URLs and unknown types are refused naming the field.
                #expect(try await call(.post, "/v1/webhook-endpoints", key: read, body: #"{"url":"https://hooks.example.com/a"}"#).0 == 403)
                let badURL = try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"url":"ftp://hooks.example.com/a"}"#)
                #expect(badURL.0 == 422 && (badURL.1["error"] as? [String: Any])?["field"] as? String == "url")
                // The egress policy in force (the default: https only, no internal addresses).
                for refused in ["http://hooks.example.com/a", "https://169.254.169.254/latest/meta-data/", "https://[::1]:8080/a", "https://10.1.2.3/a"] {
                    let answer = try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"url":"\#(refused)"}"#)
                    #expect(answer.0 == 422 && (answer.1["error"] as? [String: Any])?["code"] as? String == "invalid_url", "\(refused)")
                }
                let badType = try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"url":"https://h.example.com/a","event_types":["bounced"]}"#)
                #expect(badType.0 == 422 && (badType.1["error"] as? [String: Any])?["field"] as? String == "event_types[0]")
                #expect(try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"url":"https://h.example.com/a","extra":1}"#).0 == 422)
                #expect(try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"event_types":[]}"#).0 == 400)

                let created = try await call(.post, "/v1/webhook-endpoints", key: admin, body: #"{"url":"https://hooks.example.com/a","event_types":["email.bounced"],"batch":true}"#)
                #expect(created.0 == 201)
                let id = try #require(created.1["id"] as? String)
                let secret = try #require(created.1["secret"] as? String)
                #expect(secret.hasPrefix("whsec_") && WebhookSecret(text: secret)?.key.count == 32)
                #expect(created.1["batch"] as? Bool == true && created.1["enabled"] as? Bool == true)

                // Read back without the secret; another tenant sees nothing.
                let shown = try await call(.get, "/v1/webhook-endpoints/\(id)", key: read)
                #expect(shown.0 == 200 && shown.1["secret"] == nil && shown.1["url"] as? String == "https://hooks.example.com/a")
                #expect(shown.1.keys.contains("disabled_reason"))
                #expect(try await call(.get, "/v1/webhook-endpoints/\(id)", key: otherAdmin).0 == 404)
                #expect(try await call(.get, "/v1/webhook-endpoints/not-a-uuid", key: read).0 == 404)
                let listed = try await call(.get, "/v1/webhook-endpoints", key: read)
                #expect((listed.1["endpoints"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
                #expect(try await call(.get, "/v1/webhook-endpoints?after=x", key: read).0 == 422)

                // Update and rotate.
                let updated = try await call(.patch, "/v1/webhook-endpoints/\(id)", key: admin, body: #"{"enabled":false,"event_types":[]}"#)
                #expect(updated.0 == 200 && updated.1["enabled"] as? Bool == false && (updated.1["event_types"] as? [String]) == [])
                #expect(try await call(.patch, "/v1/webhook-endpoints/\(id)", key: otherAdmin, body: #"{"enabled":true}"#).0 == 404)
                let rotated = try await call(.post, "/v1/webhook-endpoints/\(id)/rotate-secret", key: admin, body: #"{"grace_seconds":60}"#)
                #expect(rotated.0 == 200 && rotated.1["secret"] as? String != secret && rotated.1["previous_secret_expires_at"] is String)
                #expect(try await call(.post, "/v1/webhook-endpoints/\(id)/rotate-secret", key: admin, body: #"{"grace_seconds":-1}"#).0 == 422)
                #expect(try await call(.post, "/v1/webhook-endpoints/\(id)/rotate-secret", key: admin).0 == 200)

                // Resend an event of the tenant's; another tenant's event is not found.
                try await EventStore(pool: pool).insert([
                    NewEvent(tenantID: tenant, messageID: UUID(), type: .bounced), NewEvent(tenantID: other, messageID: UUID(), type: .bounced),
                ])
                let events = try await pool.query("SELECT id, tenant_id FROM events ORDER BY id")
                let own = try events.first { try $0.uuid("tenant_id") == tenant }!.int("id")
                let foreign = try events.first { try $0.uuid("tenant_id") == other }!.int("id")
                let resent = try await call(.post, "/v1/webhook-endpoints/\(id)/resend", key: admin, body: #"{"event_id":\#(own)}"#)
                #expect(resent.0 == 202 && resent.1["delivery_id"] is String)
                #expect(try await call(.post, "/v1/webhook-endpoints/\(id)/resend", key: admin, body: #"{"event_id":\#(foreign)}"#).0 == 404)
                let attempts = try await call(.get, "/v1/webhook-endpoints/\(id)/attempts", key: read)
                #expect(attempts.0 == 200 && (attempts.1["attempts"] as? [Any])?.isEmpty == true)
                #expect(try await call(.get, "/v1/webhook-endpoints/\(id)/attempts?before=abc", key: read).0 == 422)

                // Every change is audited; delete answers 204, then 404.
                let audit = try await AuditLog(pool: pool).entries(tenantID: tenant)
                #expect(Set(audit.map(\.action)).isSuperset(of: ["webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.resent"]))
                #expect(try await call(.delete, "/v1/webhook-endpoints/\(id)", key: read).0 == 403)
                #expect(try await call(.delete, "/v1/webhook-endpoints/\(id)", key: admin).0 == 204)
                #expect(try await call(.delete, "/v1/webhook-endpoints/\(id)", key: admin).0 == 404)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    /// The document's webhook event types are exactly the event types there are.
    @Test func theDocumentNamesEveryWebhookType() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/MailfleetAPI/Resources/openapi.json")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let payload = try #require(schemas["WebhookEventPayload"] as? [String: Any])
        let type = try #require((payload["properties"] as? [String: Any])?["type"] as? [String: Any])
        #expect(type["enum"] as? [String] == EventType.webhookTypes)
        #expect((document["webhooks"] as? [String: Any])?.keys.sorted() == ["event", "eventBatch"])
    }
}
