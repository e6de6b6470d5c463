import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import MailfleetTracker
import Testing

/// The open pixel and click redirect through the tracker's router (no sockets) on the real
/// Postgres: the pixel is a real 1×1 GIF that is never cached, and machines' opens and clicks
/// are stored with `machine` and its reason, people's without.
@Suite("Tracking routes", .serialized)
struct TrackingRouteTests {
    static let person = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"

    @Test func thePixelIsAnUncachedOneByOneGIF() async throws {
        try await Self.run { _, client, _ in
            // A forged token still gets the pixel: a broken image in an inbox helps nobody.
            for token in ["forged.gif", "forged"] {
                let answer = try await client.execute(uri: "/o/\(token)", method: .get, headers: [.userAgent: Self.person])
                #expect(answer.status == .ok)
                #expect(answer.headers[.contentType] == "image/gif")
                let cache = answer.headers[.cacheControl] ?? ""
                #expect(cache.contains("no-store") && cache.contains("no-cache") && cache.contains("max-age=0"))
                let image = try #require(GIFImage(Array(buffer: answer.body)))
                #expect(image.width == 1 && image.height == 1)
                #expect(image.pixels.count == 1)
            }
        }
    }

    @Test func machinesAreFlaggedAndPeopleAreNot() async throws {
        try await Self.run { setup, client, buffer in
            let signer = TrackingSigner(secret: "it-tracking")
            let longAgo = Date().addingTimeInterval(-3600)
            func open(_ sentAt: Date?) -> String {
                "/o/" + signer.sign(TrackingToken(kind: .open, messageID: setup.message, tenantID: setup.tenant, sentAt: sentAt)) + ".gif"
            }
            func click(_ sentAt: Date?) -> String {
                "/c/" + signer.sign(TrackingToken(kind: .click, messageID: setup.message, tenantID: setup.tenant, url: "https://example.com/a", sentAt: sentAt))
            }
            _ = try await client.execute(uri: open(longAgo), method: .get, headers: [.userAgent: Self.person])
            _ = try await client.execute(uri: open(nil), method: .get, headers: [.userAgent: "Mozilla/5.0"])
            _ = try await client.execute(uri: open(Date()), method: .get, headers: [.userAgent: Self.person])
            _ = try await client.execute(
                uri: open(longAgo), method: .get, headers: [.userAgent: Self.person, .init("X-Forwarded-For")!: "17.58.1.2, 10.0.0.1"])
            let scanned = try await client.execute(uri: click(longAgo), method: .get, headers: [.userAgent: "Barracuda Sentinel (EE)"])
            #expect(scanned.status == .found)
            #expect(scanned.headers[.location] == "https://example.com/a")
            _ = try await client.execute(uri: click(longAgo), method: .get, headers: [.userAgent: Self.person])
            _ = try await client.execute(uri: click(Date()), method: .get)
            await buffer.flush()

            let rows = try await setup.pool.query("SELECT type, detail::text AS detail FROM events WHERE message_id = $1 ORDER BY id", [setup.message])
            let events = try rows.map { row in
                (try row.string("type"), try JSONSerialization.jsonObject(with: Data(try row.string("detail").utf8)) as? [String: String] ?? [:])
            }
            #expect(events.map(\.0) == ["opened", "opened", "opened", "opened", "clicked", "clicked", "clicked"])
            #expect(events.map { $0.1["machine_reason"] } == [
                nil, "apple_privacy_proxy", "soon_after_send", "apple_privacy_proxy", "security_scanner", nil, "no_user_agent",
            ])
            #expect(events.map { $0.1["machine"] } == [nil, "true", "true", "true", "true", nil, "true"])
            #expect(events[0].1["user_agent"] == Self.person)
            #expect(events[4].1["url"] == "https://example.com/a")
        }
    }

    struct Setup: Sendable {
        let pool: PostgresPool
        let tenant: UUID
        let message: UUID
    }

    /// A tenant with one sent message, and the tracker's tracking routes over a real event buffer.
    static func run(_ test: @Sendable (Setup, any TestClientProtocol, EventBuffer) async throws -> Void) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-tracking")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "tracking")
            let message = UUID()
            try await pool.query(
                """
                INSERT INTO messages (id, tenant_id, status, priority, content, sent_at)
                VALUES ($1, $2, 'sent', 'bulk', $3::json, now())
                """, [message, tenant, #"{"to":[{"email":"reader@example.com"}]}"#])
            let logger = Logger(label: "it-tracking")
            let buffer = EventBuffer(store: EventStore(pool: pool), webhooks: WebhookEventStore(pool: pool), logger: logger)
            let controller = TrackingController(
                signer: TrackingSigner(secret: "it-tracking"), events: buffer, machines: MachineTraffic(window: 2), logger: logger)
            let router = Router()
            controller.addRoutes(to: router)
            let setup = Setup(pool: pool, tenant: tenant, message: message)
            try await Application(router: router, logger: logger).test(.router) { client in try await test(setup, client, buffer) }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
