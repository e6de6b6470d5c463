import Foundation
import Hummingbird
import HummingbirdTesting
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// `GET /v1/messages` (a tenant's messages by status, paged) and `POST /v1/messages/{id}/retry`
/// through the router, on the real stores.
@Suite("Dead letters through the API", .serialized)
struct DeadLetterAPITests {
    @Test func failedMessagesAreListedPagedAndRetriedOnlyWhileFailed() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey), read = api.auth(api.readKey)
            var ids: [String] = []
            for _ in 0..<3 {
                let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message))
                ids.append(try #require(try api.object(accepted)["id"] as? String))
            }
            // Two of them fail for good, as the worker records it; another tenant has one too.
            let store = MessageStore(pool: api.pool)
            var outcomes = OutcomeBatch()
            outcomes.failed = ids.prefix(2).map {
                OutcomeBatch.Failed(messageID: UUID(uuidString: $0)!, tenantID: api.tenantID, reason: "b@example.com: 406 inactive recipient")
            }
            let other = try await TenantStore(pool: api.pool).createTenant(name: "other")
            let theirs = Message(id: UUID(), tenantID: other, priority: .bulk, status: .queued, content: content())
            _ = try await store.accept([AcceptRequest(tenantID: other, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: [theirs])])
            outcomes.failed.append(OutcomeBatch.Failed(messageID: theirs.id, tenantID: other, reason: "406"))
            try await store.record(outcomes)

            // The tenant's dead letters, one per page.
            var listed: [String] = []
            var after: String?
            for _ in 0..<3 {
                let page = try await client.execute(
                    uri: "/v1/messages?status=failed&limit=1" + (after.map { "&after=\($0)" } ?? ""), method: .get, headers: read)
                #expect(page.status == .ok)
                let body = try api.object(page)
                let items = try #require(body["messages"] as? [[String: Any]])
                for item in items {
                    #expect(item["status"] as? String == "failed")
                    #expect((item["last_error"] as? String)?.contains("406 inactive recipient") == true)
                    #expect(item["to"] as? [String] == ["b@example.com"] && item["events"] == nil)
                    listed.append(try #require(item["id"] as? String))
                }
                after = body["next"] as? String
                if items.isEmpty { #expect(after == nil) }
            }
            #expect(listed.count == 2 && Set(listed) == Set(ids.prefix(2)))
            // Every status, newest first, never another tenant's.
            let everything = try api.object(try await client.execute(uri: "/v1/messages", method: .get, headers: read))
            #expect((everything["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == Array(ids.reversed()))
            #expect(everything["next"] == nil)
            let queued = try api.object(try await client.execute(uri: "/v1/messages?status=queued", method: .get, headers: read))
            #expect((queued["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[2]])

            for (query, field) in [("status=lost", "status"), ("after=nope", "after"), ("limit=0", "limit"), ("limit=1001", "limit")] {
                let refused = try await client.execute(uri: "/v1/messages?\(query)", method: .get, headers: read)
                #expect(try refused.status == .unprocessableContent && api.error(refused)?.field == field, "\(query)")
            }
            #expect(try await client.execute(uri: "/v1/messages", method: .get, headers: send).status == .forbidden)
            #expect(try await client.execute(uri: "/v1/messages/\(ids[0])/retry", method: .post, headers: read).status == .forbidden)

            // A retry re-drives the failed message: queued, attempts reset, the error in its history.
            let retried = try await client.execute(uri: "/v1/messages/\(ids[0])/retry", method: .post, headers: send)
            #expect(retried.status == .accepted)
            let answer = try api.object(retried)
            #expect(answer["id"] as? String == ids[0] && answer["status"] as? String == "queued")
            let shown = try api.object(try await client.execute(uri: "/v1/messages/\(ids[0])", method: .get, headers: read))
            #expect(shown["status"] as? String == "queued" && shown["attempts"] as? Int == 0 && shown["last_error"] == nil)
            let redriven = (shown["events"] as? [[String: Any]])?.first { $0["type"] as? String == "redriven" }
            #expect((redriven?["detail"] as? [String: Any])?["reason"] as? String == "b@example.com: 406 inactive recipient")

            // Only a failed message can be retried; another tenant's is not found.
            for id in [ids[0], ids[2]] {
                let conflict = try await client.execute(uri: "/v1/messages/\(id)/retry", method: .post, headers: send)
                #expect(try conflict.status == .conflict && api.error(conflict)?.code == "not_failed")
            }
            for id in [theirs.id.lowercasedString, UUID().uuidString, "not-a-uuid"] {
                #expect(try await client.execute(uri: "/v1/messages/\(id)/retry", method: .post, headers: send).status == .notFound)
            }
            let left = try api.object(try await client.execute(uri: "/v1/messages?status=failed", method: .get, headers: read))
            #expect((left["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [ids[1]])
            #expect(try await store.countDeadLetters(matching: DeadLetterFilter(tenantID: other)) == 1)
        }
    }

    @Test func anUnreachableStoreIs503OnTheNewRoutesToo() async throws {
        try await APIUnderTest.run(unreachableStores: true) { api, client in
            for (uri, method, key) in [("/v1/messages?status=failed", HTTPRequest.Method.get, api.readKey), ("/v1/messages/\(UUID())/retry", .post, api.sendKey)] {
                let answer = try await client.execute(uri: uri, method: method, headers: api.auth(key))
                #expect(answer.status == .serviceUnavailable && answer.headers[.retryAfter] == "1", "\(method) \(uri)")
            }
        }
    }
}
