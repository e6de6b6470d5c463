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

/// `/v1/sequences` through the router (no sockets) on the real Postgres: scopes, refusals
/// naming their field, a template copied into a step, enrolling by id and address (once), who is
/// where, and the tenant wall.
@Suite("Sequences API", .serialized)
struct SequencesRouterTests {
    @Test func sequencesAreCreatedContactsEnrolledAndTheirPlaceShown() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-sequences-api")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-sequences-api")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "sequences")
            let other = try await tenants.createTenant(name: "other")
            let send = try await tenants.createKey(tenantID: tenant, scopes: [.send]).plaintext
            let read = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let otherKey = try await tenants.createKey(tenantID: other, scopes: [.send, .read]).plaintext
            let template = try await TemplateStore(pool: pool).create(
                tenantID: tenant, name: "welcome", template: MessageTemplate(subject: "Welcome {{first_name}}", text: "Hi", html: "<p>Hi</p>"))
            let ada = try await ContactStore(pool: pool).upsert(tenantID: tenant, email: "ada@example.com", attributes: [:], timeZone: nil).contact.id
            _ = try await ContactStore(pool: pool).upsert(tenantID: tenant, email: "bob@example.com", attributes: [:], timeZone: nil)
            // Cyd has not confirmed her subscription to a double opt-in list.
            let optIn = try await ContactListStore(pool: pool).create(tenantID: tenant, name: "opt-in", doubleOptIn: true, actor: "test")
            let cyd = try #require(try await ContactStore(pool: pool).addMember(
                tenantID: tenant, listID: optIn.id, email: "cyd@example.com", attributes: [:], timeZone: nil, status: nil)).contact.id
            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: "it-sequences-api")
            try await Application(router: router, logger: Logger(label: "it-sequences-api")).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, key: String, body: String? = nil) async throws -> (Int, [String: Any]) {
                    let answer = try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                        body: body.map { ByteBuffer(string: $0) })
                    return (Int(answer.status.code), (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:])
                }
                func error(_ answer: (Int, [String: Any])) -> [String: Any] { answer.1["error"] as? [String: Any] ?? [:] }
                let steps = #"[{"delay_seconds":0,"template_id":"\#(template.id.lowercasedString)"},{"delay_seconds":86400,"subject":"Two","text":"2","condition":{"event":"opened","happened":false}}]"#
                let body = #"{"name":"welcome","from":"hello@example.com","goal":"clicked","track_opens":true,"track_clicks":true,"steps":\#(steps)}"#

                #expect(try await call(.post, "/v1/sequences", key: read, body: body).0 == 403)
                let badDelay = try await call(.post, "/v1/sequences", key: send, body: #"{"name":"w","from":"a@example.com","steps":[{"delay_seconds":-5,"subject":"s","text":"t"}]}"#)
                #expect(badDelay.0 == 422 && error(badDelay)["field"] as? String == "steps[0].delay_seconds")
                let noBody = try await call(.post, "/v1/sequences", key: send, body: #"{"name":"w","from":"a@example.com","steps":[{"delay_seconds":0,"subject":"s"}]}"#)
                #expect(noBody.0 == 422 && error(noBody)["field"] as? String == "steps[0].text")
                let noTemplate = try await call(
                    .post, "/v1/sequences", key: send, body: #"{"name":"w","from":"a@example.com","steps":[{"delay_seconds":0,"template_id":"\#(UUID().lowercasedString)"}]}"#)
                #expect(noTemplate.0 == 422 && error(noTemplate)["code"] as? String == "template_not_found" && error(noTemplate)["field"] as? String == "steps[0].template_id")
                let noList = try await call(
                    .post, "/v1/sequences", key: send, body: #"{"name":"w","from":"a@example.com","list_id":"\#(UUID().lowercasedString)","steps":[{"delay_seconds":0,"subject":"s","text":"t"}]}"#)
                #expect(noList.0 == 422 && error(noList)["code"] as? String == "list_not_found")
                let badGoal = try await call(.post, "/v1/sequences", key: send, body: #"{"name":"w","from":"a@example.com","goal":"sent","steps":[{"delay_seconds":0,"subject":"s","text":"t"}]}"#)
                #expect(badGoal.0 == 422 && error(badGoal)["field"] as? String == "goal")
                // A goal or condition on an event that is not tracked could never fire.
                let untracked = try await call(.post, "/v1/sequences", key: send, body: body.replacingOccurrences(of: #""track_clicks":true"#, with: #""track_clicks":false"#))
                #expect(untracked.0 == 422 && error(untracked)["field"] as? String == "goal")
                let unseen = try await call(.post, "/v1/sequences", key: send, body: body.replacingOccurrences(of: #""track_opens":true"#, with: #""track_opens":false"#))
                #expect(unseen.0 == 422 && error(unseen)["field"] as? String == "steps[1].condition.event")

                let created = try await call(.post, "/v1/sequences", key: send, body: body)
                #expect(created.0 == 201 && created.1["failures"] as? Int == 0 && created.1["last_error"] == nil)
                let id = try #require(created.1["id"] as? String)
                let first = try #require((created.1["steps"] as? [[String: Any]])?.first)
                #expect(first["subject"] as? String == "Welcome {{first_name}}" && first["text"] as? String == "Hi" && first["template_version"] as? Int == 1)
                let taken = try await call(.post, "/v1/sequences", key: send, body: body)
                #expect(taken.0 == 409 && error(taken)["code"] as? String == "name_taken")

                // Enrolled by id (201), again (200, the same), by address; unknown contacts are 422.
                let enrolled = try await call(.post, "/v1/sequences/\(id)/enrollments", key: send, body: #"{"contact_id":"\#(ada.lowercasedString)"}"#)
                #expect(enrolled.0 == 201 && enrolled.1["state"] as? String == "active" && enrolled.1["step"] as? Int == 0 && enrolled.1["entry"] as? String == "api")
                let again = try await call(.post, "/v1/sequences/\(id)/enrollments", key: send, body: #"{"contact_id":"\#(ada.lowercasedString)"}"#)
                #expect(again.0 == 200 && again.1["id"] as? String == enrolled.1["id"] as? String)
                #expect(try await call(.post, "/v1/sequences/\(id)/enrollments", key: send, body: #"{"email":"BOB@example.com"}"#).0 == 201)
                let unknown = try await call(.post, "/v1/sequences/\(id)/enrollments", key: send, body: #"{"email":"nobody@example.com"}"#)
                #expect(unknown.0 == 422 && error(unknown)["code"] as? String == "contact_not_found")
                #expect(try await call(.post, "/v1/sequences/\(id)/enrollments", key: send, body: #"{}"#).0 == 422)
                #expect(try await call(.post, "/v1/sequences/\(id)/enrollments", key: read, body: #"{"email":"bob@example.com"}"#).0 == 403)

                // Who is where.
                let shown = try await call(.get, "/v1/sequences/\(id)", key: read)
                #expect(shown.0 == 200)
                let counts: [String: Int] = shown.1["enrollments"] as? [String: Int] ?? [:]
                #expect(counts == ["active": 2, "completed": 0, "exited": 0])
                let page = try await call(.get, "/v1/sequences/\(id)/enrollments?limit=1", key: read)
                #expect((page.1["enrollments"] as? [[String: Any]])?.count == 1 && page.1["next"] != nil)
                let all = try await call(.get, "/v1/sequences/\(id)/enrollments?state=active", key: read)
                let rows: [[String: Any]] = all.1["enrollments"] as? [[String: Any]] ?? []
                let emails: Set<String> = Set(rows.compactMap { $0["email"] as? String })
                #expect(emails == ["ada@example.com", "bob@example.com"])
                #expect(rows.allSatisfy { $0["next_run_at"] is String })
                #expect(try await call(.get, "/v1/sequences/\(id)/enrollments?state=gone", key: read).0 == 422)
                let mine = try await call(.get, "/v1/contacts/\(ada.lowercasedString)/sequences", key: read)
                #expect((mine.1["enrollments"] as? [[String: Any]])?.compactMap { $0["sequence_id"] as? String } == [id])
                let listed = try await call(.get, "/v1/sequences", key: read)
                #expect((listed.1["sequences"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
                #expect(try await call(.get, "/v1/sequences?after=%00", key: read).0 == 422)

                // Another tenant sees none of it.
                #expect(try await call(.get, "/v1/sequences/\(id)", key: otherKey).0 == 404)
                #expect(try await call(.get, "/v1/sequences/\(id)/enrollments", key: otherKey).0 == 404)
                #expect(try await call(.post, "/v1/sequences/\(id)/enrollments", key: otherKey, body: #"{"email":"ada@example.com"}"#).0 == 404)
                #expect(try await call(.get, "/v1/contacts/\(ada.lowercasedString)/sequences", key: otherKey).0 == 404)
                #expect(try await call(.get, "/v1/sequences/not-a-uuid", key: read).0 == 404)

                // A pending member of the trigger list is not mailed before it confirms; a contact
                // that is no member of it may be enrolled by API.
                let gated = try await call(
                    .post, "/v1/sequences", key: send,
                    body: #"{"name":"gated","from":"a@example.com","list_id":"\#(optIn.id.lowercasedString)","steps":[{"delay_seconds":0,"subject":"s","text":"t"}]}"#)
                let gatedID = try #require(gated.1["id"] as? String)
                let unconfirmed = try await call(.post, "/v1/sequences/\(gatedID)/enrollments", key: send, body: #"{"contact_id":"\#(cyd.lowercasedString)"}"#)
                #expect(unconfirmed.0 == 422 && error(unconfirmed)["code"] as? String == "contact_not_subscribed" && error(unconfirmed)["field"] as? String == "contact_id")
                #expect(try await call(.post, "/v1/sequences/\(gatedID)/enrollments", key: send, body: #"{"email":"cyd@example.com"}"#).0 == 422)
                #expect(try await call(.post, "/v1/sequences/\(gatedID)/enrollments", key: send, body: #"{"contact_id":"\#(ada.lowercasedString)"}"#).0 == 201)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
