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

/// The API's router, driven through `app.test(.router)` (no sockets) against the real stores on
/// the Postgres and Redis that ./ops/test starts: authentication, request ids, error answers
/// and each controller.
@Suite("API router", .serialized)
struct APIRouterTests {
    @Test func requestIDsAreTakenWhenSaneGeneratedOtherwiseAndOnEveryAnswer() async throws {
        try await APIUnderTest.run { api, client in
            let given = try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth(api.readKey, ["X-Request-Id": "trace-42:a/b+c="]))
            #expect(given.status == .ok)
            #expect(given.headers[.init("X-Request-Id")!] == "trace-42:a/b+c=")

            let generated = try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth(api.readKey))
            let first = try #require(generated.headers[.init("X-Request-Id")!])
            let again = try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth(api.readKey))
            #expect(!first.isEmpty && first != again.headers[.init("X-Request-Id")!])

            // Errors, unmatched paths and refused ids get one too.
            for (uri, method, id) in [("/v1/templates", HTTPRequest.Method.get, "has space"), ("/nowhere", .get, nil), ("/v1/messages", .put, String(repeating: "a", count: 129))] {
                var headers: HTTPFields = [:]
                if let id { headers[.init("X-Request-Id")!] = id }
                let answer = try await client.execute(uri: uri, method: method, headers: headers)
                let echoed = try #require(answer.headers[.init("X-Request-Id")!], "\(method) \(uri)")
                #expect(!echoed.isEmpty && echoed != id)
            }
        }
    }

    @Test func theRequestIDIsOnEveryLogLineOfTheRequest() async throws {
        // A store that cannot be reached makes the request log (its 503).
        let logs = LogLines()
        try await APIUnderTest.run(logs: logs, unreachableStores: true) { api, client in
            let answer = try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth(api.readKey, ["X-Request-Id": "req-503"]))
            #expect(answer.status == .serviceUnavailable)
        }
        // The router logged only for this one request: every line carries its id.
        let lines = logs.lines
        #expect(lines.contains { $0.message.contains("503") })
        #expect(!lines.isEmpty && lines.allSatisfy { $0.metadata["request_id"] == "req-503" })
    }

    @Test func authenticationIsOneMiddlewareAndScopesAreCheckedPerRoute() async throws {
        try await APIUnderTest.run { api, client in
            let none = try await client.execute(uri: "/v1/templates", method: .get)
            #expect(none.status == .unauthorized)
            #expect(try api.error(none)?.code == "unauthorized")
            let unknown = try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth("mf_live_nope_nope"))
            #expect(unknown.status == .unauthorized)
            // A send key cannot read; a read key cannot send.
            #expect(try await client.execute(uri: "/v1/templates", method: .get, headers: api.auth(api.sendKey)).status == .forbidden)
            let sending = try await client.execute(uri: "/v1/messages", method: .post, headers: api.auth(api.readKey), body: ByteBuffer(string: api.message))
            #expect(sending.status == .forbidden)
            #expect(try api.error(sending)?.code == "forbidden")
            // Ops routes and the document need no key.
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
            #expect(try await client.execute(uri: "/openapi.json", method: .get).status == .ok)
        }
    }

    @Test func undeclaredMethodsOnServedPathsAre405WithAllow() async throws {
        try await APIUnderTest.run { api, client in
            let put = try await client.execute(uri: "/v1/messages", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(put.headers[.allow] == "GET, POST")
            #expect(try api.error(put)?.code == "method_not_allowed")
            let patch = try await client.execute(uri: "/v1/templates/\(UUID())", method: .patch, headers: api.auth(api.sendKey))
            #expect(patch.status == .methodNotAllowed)
            #expect(patch.headers[.allow] == "DELETE, GET")
            #expect(try await client.execute(uri: "/metrics", method: .post).headers[.allow] == "GET")
            #expect(try await client.execute(uri: "/v1/nothing-here", method: .get).status == .notFound)
        }
    }

    @Test func decodeErrorsAnswerTheSameOnEveryPath() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            for uri in ["/v1/messages", "/v1/templates", "/v1/suppressions"] {
                let broken = try await client.execute(uri: uri, method: .post, headers: send, body: ByteBuffer(string: "{nope"))
                #expect(try broken.status == .badRequest && api.error(broken)?.code == "invalid_json", "\(uri)")
                let wrongType = try await client.execute(uri: uri, method: .post, headers: send, body: ByteBuffer(string: "[]"))
                #expect(try wrongType.status == .badRequest && api.error(wrongType)?.code == "invalid_type", "\(uri)")
            }
            // unknown_field and invalid_value are 422 wherever they come from: body or query.
            let unknown = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"a@example.com","why":1}"#))
            #expect(try unknown.status == .unprocessableContent && api.error(unknown)?.field == "why")
            let badEmail = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"nope"}"#))
            #expect(try badEmail.status == .unprocessableContent && api.error(badEmail)?.code == "invalid_value")
            let badSendAt = try await client.execute(
                uri: "/v1/messages", method: .post, headers: send,
                body: ByteBuffer(string: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","send_at":"tomorrow"}"#))
            #expect(try badSendAt.status == .unprocessableContent && api.error(badSendAt)?.code == "invalid_value")
            let badLimit = try await client.execute(uri: "/v1/suppressions?limit=0", method: .get, headers: api.auth(api.readKey))
            #expect(try badLimit.status == .unprocessableContent && api.error(badLimit)?.field == "limit")
            let badVersion = try await client.execute(uri: "/v1/templates/\(UUID())?version=x", method: .get, headers: api.auth(api.readKey))
            #expect(try badVersion.status == .unprocessableContent && api.error(badVersion)?.code == "invalid_value")
            let missing = try await client.execute(uri: "/v1/templates", method: .post, headers: send, body: ByteBuffer(string: #"{"name":"n"}"#))
            #expect(try missing.status == .badRequest && api.error(missing)?.code == "missing_field")
            // The same on the message path, single and in a batch item's own answer.
            let missingFrom = try await client.execute(
                uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: #"{"to":["b@example.com"],"subject":"s","text":"t"}"#))
            #expect(try missingFrom.status == .badRequest && api.error(missingFrom)?.code == "missing_field")
        }
    }

    @Test func anUnreachableStoreIs503WithRetryAfterOnEveryPath() async throws {
        try await APIUnderTest.run(unreachableStores: true) { api, client in
            let send = api.auth(api.sendKey)
            let read = api.auth(api.readKey)
            let requests: [(String, HTTPRequest.Method, HTTPFields, String?)] = [
                ("/v1/messages", .post, send, api.message),
                ("/v1/messages/\(UUID())", .get, read, nil),
                ("/v1/templates", .get, read, nil),
                ("/v1/templates", .post, send, #"{"name":"n","subject":"s","text":"t"}"#),
                ("/v1/suppressions", .get, read, nil),
                ("/v1/suppressions", .post, send, #"{"email":"a@example.com"}"#),
            ]
            for (uri, method, headers, body) in requests {
                let answer = try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
                #expect(answer.status == .serviceUnavailable, "\(method) \(uri)")
                #expect(answer.headers[.retryAfter] == "1", "\(method) \(uri)")
                #expect(try api.error(answer)?.code == "unavailable", "\(method) \(uri)")
            }
        }
    }

    @Test func messagesAreAcceptedReadBackReplayedAndPlannedPerItem() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey, ["Idempotency-Key": "order-7"])
            let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message))
            #expect(accepted.status == .accepted)
            let answer = try api.object(accepted)
            let id = try #require(answer["id"] as? String)
            #expect(answer["status"] as? String == "queued")

            // The entry is gone from Redis, as if the API died between its commit and its enqueue:
            // the client's retry puts the still-queued message back on the queue.
            var taken: [(id: UUID, priority: Priority)] = []
            for p in 0..<api.queue.partitioning.count { taken += try await api.queue.fetch(partition: p, max: 10, leaseSeconds: 60) }
            #expect(taken.map { $0.id.lowercasedString } == [id])
            try await api.queue.acknowledge(taken)
            #expect(try await api.queue.depth().total == 0)
            let replay = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message))
            #expect(replay.status == .accepted && replay.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(try api.object(replay)["id"] as? String == id)
            #expect(try await api.queue.depth().readyTransactional == 1)
            let reused = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message.replacingOccurrences(of: "\"t\"", with: "\"u\"")))
            #expect(try reused.status == .unprocessableContent && api.error(reused)?.code == "idempotency_key_reused")

            let shown = try await client.execute(uri: "/v1/messages/\(id)", method: .get, headers: api.auth(api.readKey))
            #expect(shown.status == .ok)
            let view = try api.object(shown)
            #expect(view["id"] as? String == id && view["priority"] as? String == "transactional" && view["to"] as? [String] == ["b@example.com"])
            #expect((view["events"] as? [[String: Any]])?.first?["type"] as? String == "accepted")
            #expect(try await client.execute(uri: "/v1/messages/\(UUID())", method: .get, headers: api.auth(api.readKey)).status == .notFound)
            #expect(try await client.execute(uri: "/v1/messages/not-a-uuid", method: .get, headers: api.auth(api.readKey)).status == .notFound)

            // A batch: bad items fail alone; suppressed recipients are named.
            _ = try await client.execute(uri: "/v1/suppressions", method: .post, headers: api.auth(api.sendKey), body: ByteBuffer(string: #"{"email":"gone@example.com"}"#))
            let batch = #"{"messages":[{"from":"a@example.com","to":["b@example.com","Gone@example.com"],"subject":"s","text":"t"},{"from":"a@example.com","to":[],"subject":"s","text":"t"}]}"#
            let planned = try await client.execute(uri: "/v1/messages", method: .post, headers: api.auth(api.sendKey), body: ByteBuffer(string: batch))
            #expect(planned.status == .accepted)
            let body = try api.object(planned)
            #expect(body["accepted"] as? Int == 1 && body["rejected"] as? Int == 1)
            let items = try #require(body["messages"] as? [[String: Any]])
            #expect(items[0]["suppressed_recipients"] as? [String] == ["gone@example.com"])
            #expect((items[1]["error"] as? [String: Any])?["code"] as? String == "missing_recipient")

            let single = try await client.execute(uri: "/v1/messages", method: .post, headers: api.auth(api.sendKey), body: ByteBuffer(string: #"{"from":"a@example.com","to":[],"subject":"s","text":"t"}"#))
            #expect(try single.status == .unprocessableContent && api.error(single)?.field == "to")
            let empty = try await client.execute(uri: "/v1/messages", method: .post, headers: api.auth(api.sendKey), body: ByteBuffer(string: #"{"messages":[]}"#))
            #expect(try empty.status == .unprocessableContent && api.error(empty)?.code == "empty_batch")
        }
    }

    @Test func templatesAreCreatedVersionedPreviewedSentAndDeleted() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            let read = api.auth(api.readKey)
            let created = try await client.execute(uri: "/v1/templates", method: .post, headers: send, body: ByteBuffer(string: #"{"name":"welcome","subject":"Hi {{name}}","text":"Hello {{name}}"}"#))
            #expect(created.status == .created)
            let template = try api.object(created)
            let id = try #require(template["id"] as? String)
            #expect(template["version"] as? Int == 1 && template["html"] == nil)

            let second = try await client.execute(uri: "/v1/templates/\(id)/versions", method: .post, headers: send, body: ByteBuffer(string: #"{"subject":"Hey {{name}}","html":"<b>{{name}}</b>"}"#))
            #expect(try second.status == .created && api.object(second)["version"] as? Int == 2)
            let renamed = try await client.execute(uri: "/v1/templates/\(id)/versions", method: .post, headers: send, body: ByteBuffer(string: #"{"name":"x","subject":"s","text":"t"}"#))
            #expect(renamed.status == .unprocessableContent)

            #expect(try api.object(try await client.execute(uri: "/v1/templates/\(id)?version=1", method: .get, headers: read))["subject"] as? String == "Hi {{name}}")
            #expect(try api.object(try await client.execute(uri: "/v1/templates/\(id)", method: .get, headers: read))["version"] as? Int == 2)
            let listed = try api.object(try await client.execute(uri: "/v1/templates", method: .get, headers: read))
            #expect((listed["templates"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])

            let preview = try await client.execute(uri: "/v1/templates/\(id)/preview", method: .post, headers: send, body: ByteBuffer(string: #"{"variables":{"name":"A & B"},"version":2}"#))
            #expect(preview.status == .ok)
            #expect(try api.object(preview)["html"] as? String == "<b>A &amp; B</b>")

            let sent = try await client.execute(
                uri: "/v1/messages", method: .post, headers: send,
                body: ByteBuffer(string: #"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","variables":{"name":"Ada"}}"#))
            #expect(sent.status == .accepted)
            let sentID = try #require(try api.object(sent)["id"] as? String)
            let shown = try api.object(try await client.execute(uri: "/v1/messages/\(sentID)", method: .get, headers: read))
            #expect(shown["subject"] as? String == "Hey Ada")

            // A version the template does not have names a refused value, not a missing template.
            let noSuchVersion = try await client.execute(uri: "/v1/templates/\(id)?version=9", method: .get, headers: read)
            #expect(try noSuchVersion.status == .unprocessableContent && api.error(noSuchVersion)?.field == "version")
            let noSuchPreview = try await client.execute(uri: "/v1/templates/\(id)/preview", method: .post, headers: send, body: ByteBuffer(string: #"{"version":9}"#))
            #expect(try noSuchPreview.status == .unprocessableContent && api.error(noSuchPreview)?.field == "version")

            #expect(try await client.execute(uri: "/v1/templates/\(id)", method: .delete, headers: send).status == .noContent)
            #expect(try await client.execute(uri: "/v1/templates/\(id)", method: .get, headers: read).status == .notFound)
            #expect(try await client.execute(uri: "/v1/templates/\(id)", method: .delete, headers: send).status == .notFound)
        }
    }

    @Test func suppressionsAreAddedPagedLookedUpAndRemoved() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            let read = api.auth(api.readKey)
            for email in ["c@example.com", "A@Example.com", "b@example.com"] {
                let added = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"\#(email)","reason":"bounce"}"#))
                #expect(added.status == .created)
            }
            let refused = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"d@example.com","reason":"spite"}"#))
            #expect(try refused.status == .unprocessableContent && api.error(refused)?.field == "reason")

            let first = try api.object(try await client.execute(uri: "/v1/suppressions?limit=2", method: .get, headers: read))
            #expect((first["suppressions"] as? [[String: Any]])?.map { $0["email"] as? String } == ["a@example.com", "b@example.com"])
            let next = try #require(first["next"] as? String)
            let rest = try api.object(try await client.execute(uri: "/v1/suppressions?limit=2&after=\(next)", method: .get, headers: read))
            #expect((rest["suppressions"] as? [[String: Any]])?.map { $0["email"] as? String } == ["c@example.com"])
            #expect(rest["next"] == nil)
            // One spelling of the unsubscribe reason, the one the one-click link and webhooks write.
            let unsubscribed = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"u@example.com","reason":"unsubscribed"}"#))
            #expect(try unsubscribed.status == .created && api.object(unsubscribed)["reason"] as? String == "unsubscribed")
            let misspelt = try await client.execute(uri: "/v1/suppressions", method: .post, headers: send, body: ByteBuffer(string: #"{"email":"v@example.com","reason":"unsubscribe"}"#))
            #expect(misspelt.status == .unprocessableContent)

            let shown = try await client.execute(uri: "/v1/suppressions/A%40EXAMPLE.com", method: .get, headers: read)
            #expect(try shown.status == .ok && api.object(shown)["reason"] as? String == "bounce")
            #expect(try await client.execute(uri: "/v1/suppressions/a@example.com", method: .delete, headers: send).status == .noContent)
            #expect(try await client.execute(uri: "/v1/suppressions/a@example.com", method: .get, headers: read).status == .notFound)
            #expect(try await client.execute(uri: "/v1/suppressions/not-an-address", method: .get, headers: read).status == .notFound)
        }
    }

    @Test func sanityOfCallerRequestIDs() {
        #expect(RequestIDMiddleware.accepted("3f2a-11:x/y+z=") == "3f2a-11:x/y+z=")
        #expect(RequestIDMiddleware.accepted(String(repeating: "a", count: 128)) != nil)
        for refused in [nil, "", "a b", "a\nb", "ä", "{\"x\"}", String(repeating: "a", count: 129)] {
            #expect(RequestIDMiddleware.accepted(refused) == nil)
        }
    }
}

/// The API's router on a fresh database with one tenant and its keys.
struct APIUnderTest {
    let sendKey: String
    let readKey: String
    /// The tenant both keys belong to, and the database, for tests that set up rows directly.
    let tenantID: UUID
    let pool: PostgresPool
    /// The API's queue (its own key prefix), for tests that look at what was enqueued.
    let queue: MessageQueue
    let message = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#

    /// Runs `test` against the router; `unreachableStores` points every store but the key store at a closed port.
    static func run(
        logs: LogLines? = nil, unreachableStores: Bool = false, _ test: @Sendable (APIUnderTest, any TestClientProtocol) async throws -> Void
    ) async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-router")
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-router")
        // Nothing listens on port 9; connecting fails at once.
        let unreachable = PostgresPool(url: "postgres://postgres@127.0.0.1:9/none", size: 1, name: "it-unreachable")
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "router")
            let prefix = "it-router-\(UUID().uuidString.prefix(8))"
            let queue = MessageQueue(redis: redis, partitioning: Partitioning(count: 2), prefix: prefix)
            let api = APIUnderTest(
                sendKey: try await tenants.createKey(tenantID: tenant, scopes: [.send]).plaintext,
                readKey: try await tenants.createKey(tenantID: tenant, scopes: [.read]).plaintext, tenantID: tenant, pool: pool, queue: queue)
            let storePool = unreachableStores ? unreachable : pool
            let stores = APIStores(
                messages: MessageStore(pool: storePool), queue: queue,
                templates: TemplateStore(pool: storePool), suppressions: SuppressionStore(pool: storePool), tenants: tenants,
                rateLimiter: RateLimiter(redis: redis, prefix: prefix + ":rl"), breakers: CircuitBreakerStore(redis: redis, prefix: prefix))
            var logger = Logger(label: "it-router") { _ in logs.map { LogLines.Handler(lines: $0) } ?? SwiftLogNoOpLogHandler() as any LogHandler }
            logger.logLevel = .debug
            let router = APIServer.router(
                configuration: APIConfiguration(), stores: stores, authenticator: Authenticator(tenants: tenants, ttl: 0), readiness: [], logger: logger)
            let app = Application(router: router, logger: logger)
            try await app.test(.router) { client in try await test(api, client) }
        } catch {
            redis.shutdown()
            await unreachable.shutdown()
            await pool.shutdown()
            throw error
        }
        redis.shutdown()
        await unreachable.shutdown()
        await pool.shutdown()
    }

    func auth(_ key: String, _ extra: [String: String] = [:]) -> HTTPFields {
        var fields: HTTPFields = [.authorization: "Bearer \(key)", .contentType: "application/json"]
        for (name, value) in extra { fields[.init(name)!] = value }
        return fields
    }

    func object(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], "\(String(buffer: response.body))")
    }

    /// The `error` object of an error answer.
    func error(_ response: TestResponse) throws -> (code: String?, field: String?)? {
        #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
        guard let error = try object(response)["error"] as? [String: Any] else { return nil }
        return (error["code"] as? String, error["field"] as? String)
    }
}

/// Log lines kept in memory, to check what a request logged.
final class LogLines: @unchecked Sendable {
    struct Line {
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var stored: [Line] = []

    var lines: [Line] { lock.withLock { stored } }

    func append(_ line: Line) { lock.withLock { stored.append(line) } }

    struct Handler: LogHandler {
        let lines: LogLines
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            lines.append(Line(message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
