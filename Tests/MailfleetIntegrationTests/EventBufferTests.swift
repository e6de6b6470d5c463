import Foundation
import Logging
import MailfleetCore
import MailfleetPostgres
import MailfleetProviderFormats
import MailfleetStore
import MailfleetTracker
import ServiceLifecycle
import Testing

@Suite struct EventBufferTests {
    /// Events keep arriving while short-interval and threshold writes run; at graceful shutdown
    /// the buffer's last flush must wait for a write in flight and then write the rest.
    @Test func gracefulShutdownWritesEveryEvent() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-events")
        try await Migrator(pool: pool).migrate()
        let logger = Logger(label: "test")
        let buffer = EventBuffer(store: EventStore(pool: pool), webhooks: WebhookEventStore(pool: pool), logger: logger, interval: .milliseconds(1), maxBatch: 50)
        let group = ServiceGroup(configuration: .init(services: [buffer], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let tenant = UUID()
            for _ in 0..<2000 { buffer.append(NewEvent(tenantID: tenant, messageID: UUID(), type: .opened)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try await pool.query("SELECT count(*) AS n FROM events").first?.int("n") == 2000)
        await pool.shutdown()
    }

    /// A webhook request Postgres refuses (a NUL in jsonb) must not fail the requests that
    /// shared its group commit: they are retried alone and stored.
    @Test func oneUnwritableWebhookRequestDoesNotFailItsGroup() async throws {
        let url = try await TestEnvironment.freshDatabase()
        let pool = PostgresPool(url: url, size: 2, name: "it-events-group")
        let blocker = PostgresPool(url: url, size: 1, name: "it-events-blocker")
        try await Migrator(pool: pool).migrate()
        let tenant = try await TenantStore(pool: pool).createTenant(name: "group")
        func request(_ eventID: String, reason: String) async throws -> [ReceivedWebhookEvent] {
            let message = UUID()
            try await pool.query(
                "INSERT INTO messages (id, tenant_id, status, priority, content, sent_at) VALUES ($1, $2, 'sent', 'bulk', $3::json, now())",
                [message, tenant, #"{"to":[{"email":"a@example.com"}]}"#])
            var event = WebhookEvent(provider: .sendgrid, providerEventID: eventID, kind: .dropped, messageID: message, recipient: "a@example.com", occurredAt: Date())
            // Set after the parser's clean-up, as a value no parser lets through would be.
            event.reason = reason
            return [ReceivedWebhookEvent(tenantID: tenant, accountID: UUID(), event: event)]
        }
        let first = try await request("first", reason: "ok")
        let bad = try await request("bad", reason: "nul \u{0} here")
        let good = try await request("good", reason: "ok")
        let buffer = EventBuffer(store: EventStore(pool: pool), webhooks: WebhookEventStore(pool: pool), logger: Logger(label: "test"))

        // Hold the events table so the first request's write waits; the next two then share one group.
        let holding = Task {
            try await blocker.transaction { connection in
                _ = try connection.query("LOCK TABLE events IN EXCLUSIVE MODE")
                _ = try connection.query("SELECT pg_sleep(1.5)")
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let firstTask = Task { try await buffer.record(first) }
        try await Task.sleep(for: .milliseconds(300))
        let badTask = Task { try await buffer.record(bad) }
        let goodTask = Task { try await buffer.record(good) }
        #expect(try await firstTask.value == [.stored])
        #expect(try await goodTask.value == [.stored])
        await #expect(throws: (any Error).self) { try await badTask.value }
        try await holding.value
        #expect(try await pool.query("SELECT count(*) AS n FROM events").first?.int("n") == 2)
        await blocker.shutdown()
        await pool.shutdown()
    }
}
