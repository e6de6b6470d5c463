import Foundation
import Logging
import MailfleetCore
import MailfleetPostgres
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
}
