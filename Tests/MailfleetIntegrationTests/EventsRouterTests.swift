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

/// `GET /v1/events` through the router (no sockets) on the real Postgres: the key's own
/// tenant's events only, newest first, narrowed by type and time, paged by cursor.
@Suite("Events API", .serialized)
struct EventsRouterTests {
    @Test func listsTheOwnTenantsEventsByTypeAndTimeInPages() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-events-api")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-events-api")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "events")
            let other = try await tenants.createTenant(name: "other")
            let key = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let sendKey = try await tenants.createKey(tenantID: tenant, scopes: [.send]).plaintext
            let message = UUID()
            let start = Date(timeIntervalSince1970: 1_800_000_000)
            // Five events a second apart, alternating types, and one of another tenant in between.
            var events = (0..<5).map { i in
                NewEvent(tenantID: tenant, messageID: message, type: i % 2 == 0 ? .delivered : .opened, detail: ["n": "\(i)"], occurredAt: start.addingTimeInterval(Double(i)))
            }
            events.append(NewEvent(tenantID: other, messageID: UUID(), type: .delivered, occurredAt: start.addingTimeInterval(2.5)))
            try await EventStore(pool: pool).insert(events)

            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: "it-events-api")
            try await Application(router: router, logger: Logger(label: "it-events-api")).test(.router) { client in
                let auth: HTTPFields = [.authorization: "Bearer \(key)"]
                func page(_ query: String) async throws -> (status: Int, numbers: [String], types: [String], next: String?) {
                    let answer = try await client.execute(uri: "/v1/events" + query, method: .get, headers: auth)
                    let body = (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:]
                    let items = body["events"] as? [[String: Any]] ?? []
                    #expect(items.allSatisfy { $0["message_id"] as? String == message.lowercasedString })
                    return (
                        Int(answer.status.code), items.compactMap { ($0["detail"] as? [String: Any])?["n"] as? String }, items.compactMap { $0["type"] as? String },
                        body["next"] as? String
                    )
                }
                let all = try await page("")
                #expect(all.status == 200 && all.numbers == ["4", "3", "2", "1", "0"] && all.next == nil)

                let first = try await page("?limit=2")
                #expect(first.numbers == ["4", "3"])
                let second = try await page("?limit=2&after=\(try #require(first.next))")
                #expect(second.numbers == ["2", "1"])
                let third = try await page("?limit=2&after=\(try #require(second.next))")
                #expect(third.numbers == ["0"] && third.next == nil)

                let delivered = try await page("?type=delivered")
                #expect(delivered.numbers == ["4", "2", "0"] && Set(delivered.types) == ["delivered"])
                #expect(try await page("?type=delivered,opened").numbers.count == 5)
                let window = try await page("?since=\(ISO8601.format(start.addingTimeInterval(1)))&until=\(ISO8601.format(start.addingTimeInterval(3)))")
                #expect(window.numbers == ["2", "1"])

                for bad in ["?type=nope", "?limit=0", "?since=yesterday", "?after=x_1"] {
                    #expect(try await page(bad).status == 422, "\(bad)")
                }
                #expect(try await client.execute(uri: "/v1/events", method: .get, headers: [.authorization: "Bearer \(sendKey)"]).status == .forbidden)
                #expect(try await client.execute(uri: "/v1/events", method: .get).status == .unauthorized)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
