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

/// `/v1/lists`, `/v1/contacts` and `/v1/imports` through the router (no sockets) on the real
/// Postgres: scopes, validation, memberships, suppressions, streamed import and export.
@Suite("Contacts API", .serialized)
struct ContactsRouterTests {
    typealias Call = @Sendable (HTTPRequest.Method, String, String, String?, String) async throws -> (Int, [String: Any], String)

    func withAPI(_ name: String, _ body: @escaping @Sendable (Call, _ send: String, _ read: String, _ other: String, PostgresPool, UUID) async throws -> Void) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: name)
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: name)
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "contacts")
            let other = try await tenants.createTenant(name: "other")
            let send = try await tenants.createKey(tenantID: tenant, scopes: [.send, .read]).plaintext
            let read = try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext
            let otherKey = try await tenants.createKey(tenantID: other, scopes: [.admin]).plaintext
            let router = testAPIRouter(pool: pool, redis: redis, tenants: tenants, name: name)
            try await Application(router: router, logger: Logger(label: name)).test(.router) { client in
                let call: Call = { method, uri, key, body, type in
                    let answer = try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(key)", .contentType: type], body: body.map { ByteBuffer(string: $0) })
                    let text = String(buffer: answer.body)
                    return (Int(answer.status.code), (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:], text)
                }
                try await body(call, send, read, otherKey, pool, tenant)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    @Test func listsContactsAndMembers() async throws {
        try await withAPI("it-contacts-api") { call, send, read, other, pool, tenant in
            let json = "application/json"
            #expect(try await call(.post, "/v1/lists", read, #"{"name":"News"}"#, json).0 == 403)
            #expect(try await call(.post, "/v1/lists", send, #"{"name":"  "}"#, json).0 == 422)
            #expect(try await call(.post, "/v1/lists", send, #"{"double_opt_in":true}"#, json).0 == 400)
            let created = try await call(.post, "/v1/lists", send, #"{"name":"News","double_opt_in":true}"#, json)
            #expect(created.0 == 201 && created.1["double_opt_in"] as? Bool == true)
            let listID = try #require(created.1["id"] as? String)
            let clash = try await call(.post, "/v1/lists", send, #"{"name":"News"}"#, json)
            #expect(clash.0 == 409 && (clash.1["error"] as? [String: Any])?["code"] as? String == "name_taken")
            #expect(try await call(.get, "/v1/lists/\(listID)", other, nil, json).0 == 404)

            // A member of a double opt-in list starts pending; a suppressed one unsubscribed.
            let ada = try await call(.post, "/v1/lists/\(listID)/members", send, #"{"email":"Ada@Example.com","attributes":{"plan":"pro"},"time_zone":"Europe/Berlin"}"#, json)
            #expect(ada.0 == 201 && ada.1["status"] as? String == "pending")
            let adaContact = try #require(ada.1["contact"] as? [String: Any])
            #expect(adaContact["email"] as? String == "ada@example.com" && adaContact["time_zone"] as? String == "Europe/Berlin")
            let adaID = try #require(adaContact["id"] as? String)
            _ = try await SuppressionStore(pool: pool).add(tenantID: tenant, address: try EmailAddress(email: "blocked@example.com"), reason: "bounce")
            let blocked = try await call(.post, "/v1/lists/\(listID)/members", send, #"{"email":"blocked@example.com","status":"subscribed"}"#, json)
            #expect(blocked.1["status"] as? String == "unsubscribed")
            let blockedID = try #require((blocked.1["contact"] as? [String: Any])?["id"] as? String)
            #expect(try await call(.patch, "/v1/lists/\(listID)/members/\(blockedID)", send, #"{"status":"subscribed"}"#, json).0 == 409)
            let bad = try await call(.post, "/v1/lists/\(listID)/members", send, #"{"email":"nope","time_zone":"Europe/Berlin"}"#, json)
            #expect(bad.0 == 422 && (bad.1["error"] as? [String: Any])?["code"] as? String == "invalid_address")
            let badZone = try await call(.post, "/v1/contacts", send, #"{"email":"z@example.com","time_zone":"EST"}"#, json)
            #expect(badZone.0 == 422 && (badZone.1["error"] as? [String: Any])?["field"] as? String == "time_zone")

            // Confirm, then the contact shows its lists; attributes merge and null removes one.
            let confirmed = try await call(.patch, "/v1/lists/\(listID)/members/\(adaID)", send, #"{"status":"subscribed"}"#, json)
            #expect(confirmed.0 == 200 && confirmed.1["status"] as? String == "subscribed" && confirmed.1["subscribed_at"] is String)
            let merged = try await call(.post, "/v1/contacts", send, #"{"email":"ada@example.com","attributes":{"country":"DE"}}"#, json)
            #expect(merged.0 == 200 && (merged.1["attributes"] as? [String: String]) == ["plan": "pro", "country": "DE"])
            let patched = try await call(.patch, "/v1/contacts/\(adaID)", send, #"{"attributes":{"plan":null},"time_zone":null}"#, json)
            #expect((patched.1["attributes"] as? [String: String]) == ["country": "DE"] && patched.1["time_zone"] is NSNull)
            let shown = try await call(.get, "/v1/contacts/\(adaID)", read, nil, json)
            #expect((shown.1["lists"] as? [[String: Any]])?.first?["status"] as? String == "subscribed")
            #expect(try await call(.get, "/v1/contacts/\(adaID)", other, nil, json).0 == 404)

            let list = try await call(.get, "/v1/lists/\(listID)", read, nil, json)
            #expect((list.1["members"] as? [String: Int]) == ["pending": 0, "subscribed": 1, "unsubscribed": 1])
            let page = try await call(.get, "/v1/lists/\(listID)/members?status=subscribed", read, nil, json)
            #expect((page.1["members"] as? [[String: Any]])?.count == 1)
            #expect(try await call(.get, "/v1/lists/\(listID)/members?status=gone", read, nil, json).0 == 422)
            #expect(try await call(.get, "/v1/contacts?limit=1", read, nil, json).1["next"] as? String == "ada@example.com")

            #expect(try await call(.delete, "/v1/lists/\(listID)/members/\(adaID)", send, nil, json).0 == 204)
            #expect(try await call(.delete, "/v1/lists/\(listID)/members/\(adaID)", send, nil, json).0 == 404)
            #expect(try await call(.patch, "/v1/lists/\(listID)", send, #"{"name":"Weekly"}"#, json).1["name"] as? String == "Weekly")
            #expect(try await call(.delete, "/v1/contacts/\(adaID)", send, nil, json).0 == 204)
            #expect(try await call(.delete, "/v1/lists/\(listID)", send, nil, json).0 == 204)
            #expect(try await call(.get, "/v1/lists/\(listID)", read, nil, json).0 == 404)
            let audited = try await AuditLog(pool: pool).entries(tenantID: tenant).map(\.action)
            #expect(audited.filter { $0.hasPrefix("list.") } == ["list.deleted", "list.updated", "list.created"])
        }
    }

    @Test func importsAreStreamedCountedAndExported() async throws {
        try await withAPI("it-contacts-import") { call, send, read, other, pool, tenant in
            let json = "application/json"
            let listID = try #require(try await call(.post, "/v1/lists", send, #"{"name":"Imported"}"#, json).1["id"] as? String)
            _ = try await SuppressionStore(pool: pool).add(tenantID: tenant, address: try EmailAddress(email: "gone@example.com"), reason: "complaint")
            let csv = """
                email,first_name,time_zone\r
                ada@example.com,Ada,Europe/Berlin\r
                bad-address,X,\r
                "bob@example.com","Bob, Jr.",\r
                ADA@example.com,Second,\r
                gone@example.com,Gone,\r
                carl@example.com,Carl,Mars/Base\r

                """
            #expect(try await call(.post, "/v1/lists/\(listID)/imports", send, csv, "text/plain").0 == 415)
            #expect(try await call(.post, "/v1/lists/\(listID)/imports", read, csv, "text/csv").0 == 403)
            let noEmail = try await call(.post, "/v1/lists/\(listID)/imports", send, "name\nx\n", "text/csv")
            #expect(noEmail.0 == 422 && (noEmail.1["error"] as? [String: Any])?["code"] as? String == "missing_email_column")
            // A refused file wrote nothing, not even an import record.
            #expect((try await call(.get, "/v1/lists/\(listID)/imports", read, nil, json).1["imports"] as? [Any])?.isEmpty == true)

            let first = try await call(.post, "/v1/lists/\(listID)/imports", send, csv, "text/csv; charset=utf-8")
            #expect(first.0 == 201 && first.1["state"] as? String == "completed")
            #expect((first.1["counts"] as? [String: Int]) == ["read": 6, "imported": 3, "updated": 0, "rejected": 2, "suppressed": 1, "duplicates": 1])
            let importID = try #require(first.1["id"] as? String)
            let errors = try await call(.get, "/v1/imports/\(importID)/errors", read, nil, json)
            let rows = try #require(errors.1["errors"] as? [[String: Any]])
            #expect(rows.compactMap { $0["line"] as? Int } == [3, 7])
            #expect((rows[1]["reason"] as? String)?.contains("Mars/Base") == true)
            #expect(try await call(.get, "/v1/imports/\(importID)", other, nil, json).0 == 404)

            // The first row of an address wins; running the file again updates, never duplicates.
            let again = try await call(.post, "/v1/lists/\(listID)/imports", send, csv, "text/csv")
            #expect((again.1["counts"] as? [String: Int]) == ["read": 6, "imported": 0, "updated": 3, "rejected": 2, "suppressed": 1, "duplicates": 1])
            let list = try await call(.get, "/v1/lists/\(listID)", read, nil, json)
            #expect((list.1["members"] as? [String: Int]) == ["pending": 0, "subscribed": 2, "unsubscribed": 1])
            #expect((try await call(.get, "/v1/lists/\(listID)/imports", read, nil, json).1["imports"] as? [Any])?.count == 2)

            let ndjson = #"{"email":"dora@example.com","attributes":{"vip":true}}"# + "\n" + #"{"email":"bob@example.com","attributes":{"team":"B"}}"# + "\n{oops\n"
            let third = try await call(.post, "/v1/lists/\(listID)/imports", send, ndjson, "application/x-ndjson")
            #expect((third.1["counts"] as? [String: Int]) == ["read": 3, "imported": 1, "updated": 1, "rejected": 1, "suppressed": 0, "duplicates": 0])

            let exported = try await call(.get, "/v1/lists/\(listID)/export?format=csv", read, nil, json)
            #expect(exported.0 == 200)
            let exportedLines = exported.2.split(separator: "\r\n").map(String.init)
            #expect(exportedLines.first == "email,status,time_zone,first_name,team,vip")
            #expect(Set(exportedLines.dropFirst()) == [
                "ada@example.com,subscribed,Europe/Berlin,Ada,,", "bob@example.com,subscribed,,\"Bob, Jr.\",B,",
                "gone@example.com,unsubscribed,,Gone,,", "dora@example.com,subscribed,,,,true",
            ])
            let subscribed = try await call(.get, "/v1/lists/\(listID)/export?status=subscribed", read, nil, json)
            let objects = subscribed.2.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            #expect(Set(objects.compactMap { $0["email"] as? String }) == ["ada@example.com", "bob@example.com", "dora@example.com"])
            #expect(try await call(.get, "/v1/lists/\(listID)/export?format=xml", read, nil, json).0 == 422)
        }
    }

    @Test func aPendingMemberCarriesASignedConfirmationLink() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-contacts-doi")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-contacts-doi")
        defer { redis.shutdown() }
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "doi")
            let key = try await tenants.createKey(tenantID: tenant, scopes: [.send, .read]).plaintext
            let prefix = "it-contacts-doi-\(UUID().uuidString.prefix(8))"
            let stores = APIStores(
                messages: MessageStore(pool: pool), queue: MessageQueue(redis: redis, partitioning: Partitioning(count: 1), prefix: prefix),
                templates: TemplateStore(pool: pool), suppressions: SuppressionStore(pool: pool), tenants: tenants,
                rateLimiter: RateLimiter(redis: redis, prefix: prefix + ":rl"), breakers: CircuitBreakerStore(redis: redis, prefix: prefix))
            var configuration = APIConfiguration()
            configuration.trackingSecret = "doi-secret"
            configuration.trackerURL = "https://track.example.com"
            let router = APIServer.router(
                configuration: configuration, stores: stores, authenticator: Authenticator(tenants: tenants, ttl: 0), readiness: [], logger: Logger(label: prefix))
            try await Application(router: router, logger: Logger(label: prefix)).test(.router) { client in
                func call(_ method: HTTPRequest.Method, _ uri: String, _ body: String) async throws -> [String: Any] {
                    let answer = try await client.execute(
                        uri: uri, method: method, headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: ByteBuffer(string: body))
                    return (try? JSONSerialization.jsonObject(with: Data(buffer: answer.body)) as? [String: Any]) ?? [:]
                }
                let listID = try #require(try await call(.post, "/v1/lists", #"{"name":"Opt-in","double_opt_in":true}"#)["id"] as? String)
                let member = try await call(.post, "/v1/lists/\(listID)/members", #"{"email":"ada@example.com"}"#)
                let url = try #require(member["confirm_url"] as? String)
                #expect(url.hasPrefix("https://track.example.com/confirm/"))
                let confirmation = try #require(ListConfirmationSigner(secret: "doi-secret").verify(String(url.dropFirst("https://track.example.com/confirm/".count))))
                #expect(confirmation.tenantID == tenant && confirmation.listID.lowercasedString == listID)
                #expect(confirmation.contactID.lowercasedString == (member["contact"] as? [String: Any])?["id"] as? String)
                // A subscribed member has no link.
                let other = try await call(.post, "/v1/lists/\(listID)/members", #"{"email":"bob@example.com","status":"subscribed"}"#)
                #expect(other["status"] as? String == "subscribed" && other["confirm_url"] == nil)
            }
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    @Test func aKilledImportRunAgainConverges() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-contacts-kill")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "kill")
            let list = try await ContactListStore(pool: pool).create(tenantID: tenant, name: "L", doubleOptIn: false, actor: "test")
            let store = ContactImportStore(pool: pool)
            var file = "email,n\n"
            for index in 0..<1000 { file += "user\(index)@example.com,\(index)\n" }
            let bytes = Array(file.utf8)
            // Half the file in batches of 100, then the run stops without finishing.
            var killed = try await ContactImporter(store: store, tenantID: tenant, listID: list.id, format: .csv, actor: "test", batchSize: 100)
            try await killed.feed(bytes[..<(bytes.count / 2)])
            let partial = try #require(killed.record)
            #expect(partial.state == .running && partial.counts.imported == partial.counts.read && partial.counts.read >= 400)
            var rerun = try await ContactImporter(store: store, tenantID: tenant, listID: list.id, format: .csv, actor: "test", batchSize: 100)
            for start in stride(from: 0, to: bytes.count, by: 4096) { try await rerun.feed(bytes[start..<min(bytes.count, start + 4096)]) }
            let done = try await rerun.finish()
            #expect(done.counts.read == 1000 && done.counts.updated == partial.counts.read && done.counts.imported == 1000 - partial.counts.read)
            let members = try await pool.query("SELECT count(*) AS n, count(DISTINCT contact_id) AS d FROM list_members WHERE list_id = $1", [list.id])
            #expect(try members[0].int("n") == 1000 && members[0].int("d") == 1000)
            #expect(try await pool.query("SELECT count(*) AS n FROM contacts WHERE tenant_id = $1", [tenant])[0].int("n") == 1000)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    /// Two imports of the same addresses in opposite orders, at once, into one tenant: each
    /// batch locks its contacts in address order, so neither waits for the other in a cycle
    /// (in file order they deadlock and Postgres aborts one).
    @Test func concurrentImportsOfTheSameAddressesDoNotDeadlock() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 3, name: "it-contacts-deadlock")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "deadlock")
            let list = try await ContactListStore(pool: pool).create(tenantID: tenant, name: "L", doubleOptIn: false, actor: "test")
            let store = ContactImportStore(pool: pool)
            func batch(_ indices: [Int], round: Int) -> ContactBatch {
                var batch = ContactBatch()
                for (line, index) in indices.enumerated() {
                    batch.add(.row(ContactRow(line: line + 2, email: "user\(index)@example.com", attributes: ["round": .number(Double(round))])))
                }
                return batch
            }
            let ascending = Array(0..<2000), descending = Array(ascending.reversed())
            for round in 0..<4 {
                let first = try #require(try await store.begin(tenantID: tenant, listID: list.id, format: .csv, actor: "test"))
                let second = try #require(try await store.begin(tenantID: tenant, listID: list.id, format: .csv, actor: "test"))
                async let a = store.write(batch(ascending, round: round), importID: first.id, tenantID: tenant, listID: list.id, doubleOptIn: false)
                async let b = store.write(batch(descending, round: round), importID: second.id, tenantID: tenant, listID: list.id, doubleOptIn: false)
                let (one, two) = try await (a, b)
                #expect(one.counts.imported + one.counts.updated == 2000 && two.counts.imported + two.counts.updated == 2000)
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM list_members WHERE list_id = $1", [list.id])[0].int("n") == 2000)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
