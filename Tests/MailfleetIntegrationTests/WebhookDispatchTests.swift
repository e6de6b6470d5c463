import Foundation
import Logging
import MailfleetCore
import MailfleetHTTPClient
import MailfleetPostgres
import MailfleetStore
import MailfleetTracker
import ServiceLifecycle
import Testing

/// The webhook dispatcher against the real Postgres and a receiver on 127.0.0.1: events become
/// deliveries in their own transaction (the trigger), reach the endpoint signed (checked by the
/// `standardwebhooks` package), failures are retried on the schedule and then disable the
/// endpoint, re-enabling resumes, and a slow endpoint does not hold up a fast one.
@Suite("Webhook dispatch", .serialized)
struct WebhookDispatchTests {
    /// A fresh database, a tenant, a receiver and a dispatcher running until `body` returns.
    static func withDispatcher(
        schedule: [Double] = [5], concurrency: Int = 4, requestTimeout: Duration = .seconds(5),
        _ body: (PostgresPool, UUID, WebhookReceiver) async throws -> Void
    ) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 4, name: "it-webhooks")
        let receiver = try await WebhookReceiver.start()
        var configuration = WebhookDispatcherConfiguration()
        configuration.limits = WebhookDispatchBoard.Limits(concurrency: concurrency, batchSize: 10)
        configuration.schedule = WebhookRetrySchedule(delays: schedule, jitter: 0)
        configuration.pollInterval = .milliseconds(20)
        configuration.requestTimeout = requestTimeout
        // The receiver is on 127.0.0.1 over http: allowed as for local development.
        configuration.egress = EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        let client = HTTPClient(configuration: configuration.httpClientConfiguration, name: "it-webhooks")
        let logger = Logger(label: "it-webhooks")
        let dispatcher = WebhookDispatcher(configuration: configuration, store: WebhookDeliveryStore(pool: pool), client: client, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [dispatcher], logger: logger))
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "hooks")
            let run = Task { try await group.run() }
            try await body(pool, tenant, receiver)
            await group.triggerGracefulShutdown()
            try await run.value
        } catch {
            await group.triggerGracefulShutdown()
            receiver.stop()
            client.shutdown()
            await pool.shutdown()
            throw error
        }
        receiver.stop()
        client.shutdown()
        await pool.shutdown()
    }

    static func bounce(_ tenant: UUID, _ n: Int) -> NewEvent {
        NewEvent(tenantID: tenant, messageID: UUID(), type: .bounced, detail: ["recipient": "r\(n)@example.com", "bounce_type": "hard", "n": "\(n)"])
    }

    @Test func eventsReachTheEndpointSignedAndTheIndependentVerifierAgrees() async throws {
        try await Self.withDispatcher { pool, tenant, receiver in
            let store = WebhookStore(pool: pool)
            let endpoint = try await store.create(
                tenantID: tenant, url: receiver.url("/ok"), eventTypes: ["email.bounced"], batch: false, enabled: true, actor: "test")
            let batching = try await store.create(tenantID: tenant, url: receiver.url("/batch"), eventTypes: [], batch: true, enabled: true, actor: "test")
            // One statement with three bounces and an open: the trigger makes 3 deliveries for
            // the bounce-only endpoint and 4 for the one taking every type.
            try await EventStore(pool: pool).insert([Self.bounce(tenant, 1), Self.bounce(tenant, 2), Self.bounce(tenant, 3),
                NewEvent(tenantID: tenant, messageID: UUID(), type: .opened)])
            let got = try await receiver.wait(for: "/ok") { $0.count >= 3 }
            #expect(got.count == 3)
            #expect(try IndependentVerifier.verify(got, secret: endpoint.secret.text) == [true, true, true])
            // A wrong secret is refused by the same verifier, so its agreement means something.
            #expect(try IndependentVerifier.verify(Array(got.prefix(1)), secret: WebhookSecret.generate().text) == [false])
            let payloads = try got.map { try #require(JSONSerialization.jsonObject(with: $0.body) as? [String: Any]) }
            #expect(Set(payloads.compactMap { $0["type"] as? String }) == ["email.bounced"])
            #expect(Set(payloads.compactMap { ($0["data"] as? [String: Any])?["recipient"] as? String }) == ["r1@example.com", "r2@example.com", "r3@example.com"])
            #expect(Set(got.map(\.id)) == Set(payloads.compactMap { $0["id"] as? String }))

            let batches = try await receiver.wait(for: "/batch") { requests in
                requests.reduce(0) { $0 + ((try? JSONSerialization.jsonObject(with: $1.body) as? [Any])?.count ?? 0) } >= 4
            }
            #expect(try IndependentVerifier.verify(batches, secret: batching.secret.text).allSatisfy { $0 })
            let items = batches.flatMap { (try? JSONSerialization.jsonObject(with: $0.body) as? [[String: Any]]) ?? [] }
            #expect(items.count == 4)
            #expect(Set(items.compactMap { $0["type"] as? String }) == ["email.bounced", "email.opened"])

            // The attempt log shows the deliveries.
            let attempts = try await waitForAttempts(store, tenant, endpoint.id) { $0.count >= 3 }
            #expect(attempts.count == 3 && attempts.allSatisfy { $0.outcome == "delivered" && $0.status == 204 })
        }
    }

    @Test func aRotatedSecretSignsBesideTheOldOneDuringTheGrace() async throws {
        try await Self.withDispatcher { pool, tenant, receiver in
            let store = WebhookStore(pool: pool)
            let created = try await store.create(tenantID: tenant, url: receiver.url("/rot"), eventTypes: [], batch: false, enabled: true, actor: "test")
            let rotated = try #require(try await store.rotateSecret(tenantID: tenant, id: created.id, grace: 3600, actor: "test"))
            #expect(rotated.secret != created.secret && rotated.previousSecret == created.secret)
            try await EventStore(pool: pool).insert([Self.bounce(tenant, 1)])
            let got = try await receiver.wait(for: "/rot") { !$0.isEmpty }
            #expect(got.first?.signature.split(separator: " ").count == 2)
            #expect(try IndependentVerifier.verify(got, secret: created.secret.text) == [true])
            #expect(try IndependentVerifier.verify(got, secret: rotated.secret.text) == [true])
        }
    }

    @Test func failuresRetryThenDisableTheEndpointAndReEnablingResumes() async throws {
        try await Self.withDispatcher(schedule: [0.05, 0.05]) { pool, tenant, receiver in
            receiver.answer("/down", .init(status: 503))
            let store = WebhookStore(pool: pool)
            let endpoint = try await store.create(tenantID: tenant, url: receiver.url("/down"), eventTypes: [], batch: false, enabled: true, actor: "test")
            try await EventStore(pool: pool).insert([Self.bounce(tenant, 1)])
            // Three attempts (the first and two retries), all refused: the delivery has failed and,
            // nothing having succeeded since its first failure, the endpoint is disabled.
            let tries = try await receiver.wait(for: "/down") { $0.count >= 3 }
            #expect(tries.count == 3)
            #expect(Set(tries.map(\.id)).count == 1, "webhook-id stays the same across retries")
            let disabled = try await waitForEndpoint(store, tenant, endpoint.id) { !$0.enabled }
            #expect(!disabled.enabled)
            #expect(disabled.disabledReason?.contains("retry schedule") == true)
            let audit = try await AuditLog(pool: pool).entries(tenantID: tenant)
            #expect(audit.contains { $0.action == "webhook.disabled" && $0.target == endpoint.id.lowercasedString })
            let attempts = try await waitForAttempts(store, tenant, endpoint.id) { $0.count >= 3 }
            #expect(attempts.map(\.outcome) == ["failed", "retrying", "retrying"])
            #expect(attempts.allSatisfy { $0.status == 503 && $0.error == "HTTP 503" })

            // While disabled nothing is sent; a resend waits as held.
            let event = try #require(try await pool.query("SELECT max(id) AS id FROM events").first).int("id")
            guard case .queued(let resent) = try await store.resend(tenantID: tenant, endpointID: endpoint.id, eventID: event, actor: "test") else {
                Issue.record("the resend was not queued")
                return
            }
            #expect(try await store.resend(tenantID: tenant, endpointID: endpoint.id, eventID: event + 1000, actor: "test") == .noEvent)
            #expect(try await pool.query("SELECT state FROM webhook_deliveries WHERE id = $1", [resent]).first?.string("state") == "held")
            // Many polls (20 ms each) later, still nothing more was sent.
            try await Task.sleep(for: .milliseconds(300))
            #expect(receiver.requests("/down").count == 3)

            // The receiver recovers and the tenant re-enables: the held resend is delivered.
            receiver.answer("/down", .init(status: 200))
            let enabled = try #require(try await store.update(tenantID: tenant, id: endpoint.id, change: WebhookEndpointChange(enabled: true), actor: "test"))
            #expect(enabled.enabled && enabled.disabledReason == nil)
            let after = try await receiver.wait(for: "/down") { $0.count >= 4 }
            #expect(after.count == 4)
            let log = try await waitForAttempts(store, tenant, endpoint.id) { $0.first?.outcome == "delivered" }
            #expect(log.first?.outcome == "delivered")
        }
    }

    @Test func aSlowEndpointDoesNotHoldUpAFastOne() async throws {
        try await Self.withDispatcher(concurrency: 1, requestTimeout: .seconds(30)) { pool, tenant, receiver in
            receiver.answer("/slow", .init(status: 204, pause: .seconds(3)))
            let store = WebhookStore(pool: pool)
            _ = try await store.create(tenantID: tenant, url: receiver.url("/slow"), eventTypes: [], batch: false, enabled: true, actor: "test")
            _ = try await store.create(tenantID: tenant, url: receiver.url("/fast"), eventTypes: [], batch: false, enabled: true, actor: "test")
            try await EventStore(pool: pool).insert((1...5).map { Self.bounce(tenant, $0) })
            // The fast endpoint gets all five while the slow one, one request at a time, is
            // still inside its first answer: it has received one request only.
            let fast = try await receiver.wait(for: "/fast") { $0.count >= 5 }
            #expect(fast.count == 5)
            #expect(receiver.requests("/slow").count == 1)
        }
    }

    @Test func nothingClaimedGoesOutAfterTheEndpointIsDisabledOrItsURLChanges() async throws {
        try await Self.withDispatcher(concurrency: 1, requestTimeout: .seconds(30)) { pool, tenant, receiver in
            // Slow answers, so the dispatcher looks at the endpoint many times during each request.
            receiver.answer("/old", .init(status: 204, pause: .milliseconds(400)))
            receiver.answer("/new", .init(status: 204, pause: .milliseconds(400)))
            let store = WebhookStore(pool: pool)
            let endpoint = try await store.create(tenantID: tenant, url: receiver.url("/old"), eventTypes: [], batch: false, enabled: true, actor: "test")
            try await EventStore(pool: pool).insert((1...10).map { Self.bounce(tenant, $0) })
            // All ten are claimed at once; one request at a time is open.
            _ = try await receiver.wait(for: "/old") { $0.count >= 1 }
            // A new URL: the requests after the one open go there, never to the old one.
            _ = try #require(try await store.update(tenantID: tenant, id: endpoint.id, change: WebhookEndpointChange(url: receiver.url("/new")), actor: "test"))
            _ = try await receiver.wait(for: "/new") { $0.count >= 1 }
            let old = receiver.requests("/old").count
            #expect(old <= 2, "requests to the old URL after the change: \(old)")
            // Disabled: the claimed deliveries still waiting are not sent (they are held).
            _ = try #require(try await store.update(tenantID: tenant, id: endpoint.id, change: WebhookEndpointChange(enabled: false), actor: "test"))
            let atDisable = receiver.requests("/new").count
            try await Task.sleep(for: .seconds(2))
            // At most the request open at the disable (counted when it arrived) and one its slot
            // may have begun before the next look.
            #expect(receiver.requests("/new").count <= atDisable + 1)
            let held = try await pool.query("SELECT count(*) AS n FROM webhook_deliveries WHERE state = 'held'").first!.int("n")
            #expect(held > 0)
            let sent = receiver.requests("/old") + receiver.requests("/new")
            #expect(sent.count < 10 && Set(sent.map(\.id)).count == sent.count)
        }
    }

    @Test func aDeliveryIsMadeInTheEventsTransactionOrNotAtAll() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-webhooks-tx")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "tx")
            let other = try await TenantStore(pool: pool).createTenant(name: "other")
            let store = WebhookStore(pool: pool)
            _ = try await store.create(tenantID: tenant, url: "https://hooks.example.com/a", eventTypes: ["email.bounced"], batch: false, enabled: true, actor: "test")
            _ = try await store.create(tenantID: tenant, url: "https://hooks.example.com/off", eventTypes: [], batch: false, enabled: false, actor: "test")
            // A rolled-back event leaves no delivery; another tenant's event makes none for this tenant.
            await #expect(throws: (any Error).self) {
                try await pool.transaction { connection in
                    try connection.query(
                        "INSERT INTO events (tenant_id, message_id, type) VALUES ($1, $2, 'bounced')", [tenant, UUID()])
                    try connection.query("SELECT 1/0")
                }
            }
            try await EventStore(pool: pool).insert([Self.bounce(other, 2), NewEvent(tenantID: tenant, messageID: UUID(), type: .opened), Self.bounce(tenant, 3)])
            let rows = try await pool.query("SELECT count(*) AS n FROM webhook_deliveries")
            #expect(try rows[0].int("n") == 1)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    func waitForAttempts(_ store: WebhookStore, _ tenant: UUID, _ endpoint: UUID, until condition: ([WebhookAttempt]) -> Bool) async throws -> [WebhookAttempt] {
        let deadline = ContinuousClock.now + .seconds(30)
        var attempts: [WebhookAttempt] = []
        while ContinuousClock.now < deadline {
            attempts = try await store.attempts(tenantID: tenant, endpointID: endpoint) ?? []
            if condition(attempts) { return attempts }
            try await Task.sleep(for: .milliseconds(50))
        }
        return attempts
    }

    func waitForEndpoint(_ store: WebhookStore, _ tenant: UUID, _ id: UUID, until condition: (WebhookEndpoint) -> Bool) async throws -> WebhookEndpoint {
        let deadline = ContinuousClock.now + .seconds(30)
        var endpoint = try #require(try await store.get(tenantID: tenant, id: id))
        while ContinuousClock.now < deadline, !condition(endpoint) {
            try await Task.sleep(for: .milliseconds(50))
            endpoint = try #require(try await store.get(tenantID: tenant, id: id))
        }
        return endpoint
    }
}
