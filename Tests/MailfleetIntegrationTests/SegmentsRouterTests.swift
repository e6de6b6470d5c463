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

/// `/v1/segments` through the router (no sockets) on the real Postgres: scopes, filter errors
/// naming their path, names unique per tenant, counts and previews, and the tenant wall.
@Suite("Segments API", .serialized)
struct SegmentsRouterTests {
    @Test func segmentsAreStoredCountedAndPreviewed() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-segments-api")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-segments-api")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "segments")
            let other = try await tenants.createTenant(name: "other")
            let send = try await tenants.createKey(tenantID: tenant, scopes: [.send]).plaintext
            let read = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let otherSend = try await tenants.createKey(tenantID: other, scopes: [.send, .read]).plaintext
            let list = UUID()
            try await pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1, $2, 'news')", [list, tenant])
            for (index, country) in ["DE", "DE", "FR", "DE"].enumerated() {
                let id = UUID()
                try await pool.query(
                    "INSERT INTO contacts (id, tenant_id, email, attributes) VALUES ($1, $2, $3, jsonb_build_object('country', $4::text))",
                    [id, tenant, "c\(index)@example.com", country])
                if index < 2 {
                    try await pool.query("INSERT INTO list_members (list_id, contact_id, tenant_id, status) VALUES ($1, $2, $3, 'subscribed')", [list, id, tenant])
                }
            }
            try await pool.query("INSERT INTO contacts (id, tenant_id, email, attributes) VALUES ($1, $2, 'x@example.com', '{\"country\":\"DE\"}')", [UUID(), other])
            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: "it-segments-api")
            try await Application(router: router, logger: Logger(label: "it-segments-api")).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, key: String, body: String? = nil) async throws -> (Int, [String: Any]) {
                    let answer = try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                        body: body.map { ByteBuffer(string: $0) })
                    return (Int(answer.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:])
                }
                func error(_ answer: (Int, [String: Any])) -> [String: Any] { answer.1["error"] as? [String: Any] ?? [:] }
                let german = #"{"attribute":"country","op":"eq","value":"DE"}"#

                // A read key cannot create; a bad filter names the path to its bad node.
                #expect(try await call(.post, "/v1/segments", key: read, body: #"{"name":"de","filter":\#(german)}"#).0 == 403)
                let bad = try await call(.post, "/v1/segments", key: send, body: #"{"name":"de","filter":{"all":[\#(german),{"event":"opened"},{"attribute":"country","op":"eqq","value":"DE"}]}}"#)
                #expect(bad.0 == 422 && error(bad)["code"] as? String == "invalid_filter" && error(bad)["field"] as? String == "filter.all[2].op")
                #expect((error(bad)["message"] as? String)?.hasPrefix(#"filter.all[2].op: unknown operator "eqq""#) == true)
                #expect(try await call(.post, "/v1/segments", key: send, body: #"{"name":"de"}"#).0 == 400)
                #expect(try await call(.post, "/v1/segments", key: send, body: #"{"name":" ","filter":\#(german)}"#).0 == 422)
                #expect(try await call(.post, "/v1/segments", key: send, body: #"{"name":"de","filter":\#(german),"extra":1}"#).0 == 422)
                #expect(try await call(.post, "/v1/segments", key: send, body: #"{"name":"de","filter":"#).0 == 400)

                let created = try await call(.post, "/v1/segments", key: send, body: #"{"name":"de","filter":\#(german)}"#)
                #expect(created.0 == 201)
                let id = try #require(created.1["id"] as? String)
                #expect((created.1["filter"] as? [String: Any])?["op"] as? String == "eq")
                let taken = try await call(.post, "/v1/segments", key: send, body: #"{"name":"de","filter":{"all":[]}}"#)
                #expect(taken.0 == 409 && error(taken)["code"] as? String == "name_taken")
                // Another tenant may use the name, and cannot see the first tenant's segment.
                #expect(try await call(.post, "/v1/segments", key: otherSend, body: #"{"name":"de","filter":\#(german)}"#).0 == 201)
                #expect(try await call(.get, "/v1/segments/\(id)", key: otherSend).0 == 404)
                #expect(try await call(.get, "/v1/segments/\(id)/count", key: otherSend).0 == 404)

                // Counted within the tenant only; a list narrows to its subscribed members.
                let counted = try await call(.get, "/v1/segments/\(id)/count", key: read)
                #expect(counted.0 == 200 && counted.1["count"] as? Int == 3)
                #expect(counted.1["sample"] as? [String] == ["c0@example.com", "c1@example.com", "c3@example.com"])
                let inList = try await call(.get, "/v1/segments/\(id)/count?list_id=\(list.lowercasedString)", key: read)
                #expect(inList.1["count"] as? Int == 2)
                #expect(try await call(.get, "/v1/segments/\(id)/count?list_id=nope", key: read).0 == 422)
                let preview = try await call(.post, "/v1/segments/preview", key: read, body: #"{"filter":{"not":\#(german)}}"#)
                #expect(preview.0 == 200 && preview.1["count"] as? Int == 1 && preview.1["sample"] as? [String] == ["c2@example.com"])
                let listPreview = try await call(.post, "/v1/segments/preview", key: read, body: #"{"filter":{"all":[]},"list_id":"\#(list.lowercasedString)"}"#)
                #expect(listPreview.1["count"] as? Int == 2)
                let badPreview = try await call(.post, "/v1/segments/preview", key: read, body: #"{"filter":{"event":"opened","within_days":0}}"#)
                #expect(badPreview.0 == 422 && error(badPreview)["field"] as? String == "filter.within_days")

                // Renamed, refiltered, listed, deleted.
                #expect(try await call(.post, "/v1/segments", key: send, body: #"{"name":"fr","filter":{"attribute":"country","op":"eq","value":"FR"}}"#).0 == 201)
                #expect(try await call(.patch, "/v1/segments/\(id)", key: send, body: #"{"name":"fr"}"#).0 == 409)
                let changed = try await call(.patch, "/v1/segments/\(id)", key: send, body: #"{"name":"germany","filter":{"attribute":"country","op":"in","value":["DE","FR"]}}"#)
                #expect(changed.0 == 200 && changed.1["name"] as? String == "germany")
                #expect(try await call(.get, "/v1/segments/\(id)/count", key: read).1["count"] as? Int == 4)
                #expect(try await call(.patch, "/v1/segments/\(id)", key: otherSend, body: #"{"name":"mine"}"#).0 == 404)
                let listed = try await call(.get, "/v1/segments?limit=1", key: read)
                #expect((listed.1["segments"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["fr"] && listed.1["next"] as? String == "fr")
                let rest = try await call(.get, "/v1/segments?after=fr", key: read)
                #expect((rest.1["segments"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
                #expect(try await call(.delete, "/v1/segments/\(id)", key: read).0 == 403)
                #expect(try await call(.delete, "/v1/segments/\(id)", key: send).0 == 204)
                #expect(try await call(.get, "/v1/segments/\(id)", key: read).0 == 404)
                #expect(try await call(.get, "/v1/segments/not-a-uuid", key: read).0 == 404)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
