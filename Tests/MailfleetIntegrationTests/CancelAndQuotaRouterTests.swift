import Foundation
import Hummingbird
import HummingbirdTesting
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Cancellation (`DELETE /v1/messages/{id}`, `POST /v1/messages/{id}/cancel`,
/// `POST /v1/batches/{batch_id}/cancel`), `batch_id` on accept, and quotas (`GET /v1/quota`,
/// `429 quota_exceeded`) through the router, on the real stores.
@Suite("Cancellation and quotas through the API", .serialized)
struct CancelAndQuotaRouterTests {
    func scheduled(batch: String? = nil) -> String {
        let sendAt = ISO8601.format(Date().addingTimeInterval(3600))
        return #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","send_at":"\#(sendAt)""#
            + (batch.map { #","batch_id":"\#($0)""# } ?? "") + "}"
    }

    @Test func aMessageIsCancelledByEitherRouteOnceAndOnlyByItsTenant() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey), read = api.auth(api.readKey)
            var ids: [String] = []
            for _ in 0..<2 {
                let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: scheduled(batch: "b-1")))
                #expect(accepted.status == .accepted)
                ids.append(try #require(try api.object(accepted)["id"] as? String))
            }
            #expect(try await api.queue.depth().delayed == 2)
            #expect(try api.object(try await client.execute(uri: "/v1/messages/\(ids[0])", method: .get, headers: read))["batch_id"] as? String == "b-1")

            // A read key may not cancel.
            #expect(try await client.execute(uri: "/v1/messages/\(ids[0])", method: .delete, headers: read).status == .forbidden)
            let deleted = try await client.execute(uri: "/v1/messages/\(ids[0])", method: .delete, headers: send)
            #expect(deleted.status == .ok)
            let view = try api.object(deleted)
            #expect(view["status"] as? String == "cancelled" && view["batch_id"] as? String == "b-1")
            #expect((view["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String } == ["accepted", "cancelled"])
            // Its scheduled entry left Redis at once, so it no longer counts as pending.
            #expect(try await api.queue.depth().delayed == 1)

            let posted = try await client.execute(uri: "/v1/messages/\(ids[1])/cancel", method: .post, headers: send)
            #expect(try posted.status == .ok && api.object(posted)["status"] as? String == "cancelled")
            for uri in ["/v1/messages/\(ids[0])/cancel", "/v1/messages/\(ids[1])"] {
                let again = try await client.execute(uri: uri, method: uri.hasSuffix("cancel") ? .post : .delete, headers: send)
                #expect(try again.status == .conflict && api.error(again)?.code == "not_cancellable", "\(uri)")
            }
            for uri in ["/v1/messages/\(UUID().uuidString.lowercased())", "/v1/messages/not-a-uuid"] {
                #expect(try await client.execute(uri: uri, method: .delete, headers: send).status == .notFound, "\(uri)")
            }
            // Another tenant's message is not found.
            let other = try await TenantStore(pool: api.pool).createTenant(name: "other")
            let otherKey = try await TenantStore(pool: api.pool).createKey(tenantID: other, scopes: [.send]).plaintext
            let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: scheduled()))
            let mine = try #require(try api.object(accepted)["id"] as? String)
            #expect(try await client.execute(uri: "/v1/messages/\(mine)", method: .delete, headers: api.auth(otherKey)).status == .notFound)
        }
    }

    /// A message a worker has (claimed) answers 202 `cancel_requested`, by either route and
    /// again; a batch cancel counts such messages as `cancel_requested`.
    @Test func aCancelReachingAClaimedMessageIsAcceptedAsARequest() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            let body = #"{"messages":[\#(scheduled(batch: "held")),\#(scheduled(batch: "held")),\#(scheduled(batch: "held"))]}"#
            let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: body))
            let ids = try #require((try api.object(accepted)["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
            #expect(ids.count == 3)
            // A worker claims two of them (due now).
            let claimedIDs = ids.prefix(2).compactMap(UUID.init(uuidString:))
            try await api.pool.query("UPDATE messages SET next_attempt_at = now() WHERE id = ANY($1::uuid[])", [claimedIDs])
            #expect(try await MessageStore(pool: api.pool).claim(claimedIDs, lease: 30).count == 2)

            for (uri, method) in [("/v1/messages/\(ids[0])", HTTPRequest.Method.delete), ("/v1/messages/\(ids[0])/cancel", .post)] {
                let answer = try await client.execute(uri: uri, method: method, headers: send)
                #expect(answer.status == .accepted, "\(uri)")
                let object = try api.object(answer)
                #expect(object["status"] as? String == "cancel_requested" && object["id"] as? String == ids[0], "\(uri)")
            }
            // The message's own status is still the worker's until its outcome is written.
            #expect(try api.object(try await client.execute(uri: "/v1/messages/\(ids[0])", method: .get, headers: api.auth(api.readKey)))["status"] as? String == "sending")

            let batch = try api.object(try await client.execute(uri: "/v1/batches/held/cancel", method: .post, headers: send))
            #expect(batch["cancelled"] as? Int == 1 && batch["cancel_requested"] as? Int == 2 && batch["not_cancellable"] as? Int == 0)
        }
    }

    @Test func aBatchCancelAnswersCountsAndRefusesAnInvalidBatchID() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            let one = scheduled(batch: "spring:2026")
            let body = #"{"messages":[\#(one),\#(one),\#(one),\#(scheduled(batch: "other"))]}"#
            let accepted = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: body))
            #expect(try accepted.status == .accepted && api.object(accepted)["accepted"] as? Int == 4)
            let first = try #require(((try api.object(accepted))["messages"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await client.execute(uri: "/v1/messages/\(first)/cancel", method: .post, headers: send).status == .ok)

            let cancelled = try await client.execute(uri: "/v1/batches/spring:2026/cancel", method: .post, headers: send)
            #expect(cancelled.status == .ok)
            let answer = try api.object(cancelled)
            #expect(answer["batch_id"] as? String == "spring:2026" && answer["cancelled"] as? Int == 2 && answer["not_cancellable"] as? Int == 1)
            #expect(answer["cancel_requested"] as? Int == 0)
            #expect(try await api.queue.depth().delayed == 1)
            // The same batch with its `:` percent-encoded, as some clients send it: nothing left to cancel.
            let encoded = try api.object(try await client.execute(uri: "/v1/batches/spring%3A2026/cancel", method: .post, headers: send))
            #expect(encoded["cancelled"] as? Int == 0 && encoded["not_cancellable"] as? Int == 3)
            #expect(try await client.execute(uri: "/v1/batches/nothing-here/cancel", method: .post, headers: send).status == .notFound)
            let invalid = try await client.execute(uri: "/v1/batches/\(String(repeating: "x", count: 65))/cancel", method: .post, headers: send)
            #expect(try invalid.status == .unprocessableContent && api.error(invalid)?.field == "batch_id")

            // A bad batch_id on accept fails its item, naming the field.
            let bad = try await client.execute(
                uri: "/v1/messages", method: .post, headers: send,
                body: ByteBuffer(string: #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t","batch_id":"no spaces"}"#))
            #expect(try bad.status == .unprocessableContent && api.error(bad)?.field == "batch_id")
        }
    }

    @Test func overTheQuotaARequestIsRefusedWholeWithRetryAfter() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey), read = api.auth(api.readKey)
            let unlimited = try api.object(try await client.execute(uri: "/v1/quota", method: .get, headers: read))
            let daily = try #require(unlimited["daily"] as? [String: Any])
            #expect(daily["limit"] is NSNull && daily["remaining"] is NSNull && daily["used"] as? Int == 0)
            #expect(daily["resets_at"] as? String == ISO8601.format(QuotaPeriod.daily.end(of: Date())))

            #expect(try await TenantStore(pool: api.pool).setQuota(tenantID: api.tenantID, TenantQuota(daily: 2, monthly: 100)))
            let batch = #"{"messages":[\#(api.message),\#(api.message),\#(api.message)]}"#
            let refused = try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: batch))
            #expect(refused.status == .tooManyRequests)
            #expect(try api.error(refused)?.code == "quota_exceeded")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect(retryAfter >= 1 && retryAfter <= 86_400)
            #expect(String(buffer: refused.body).contains("0 of 2"))
            #expect(try await api.pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 0)

            #expect(try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message)).status == .accepted)
            let quota = try api.object(try await client.execute(uri: "/v1/quota", method: .get, headers: read))
            #expect((quota["daily"] as? [String: Any])?["used"] as? Int == 1 && (quota["daily"] as? [String: Any])?["remaining"] as? Int == 1)
            #expect((quota["monthly"] as? [String: Any])?["limit"] as? Int == 100)
            #expect(try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message)).status == .accepted)
            #expect(try await client.execute(uri: "/v1/messages", method: .post, headers: send, body: ByteBuffer(string: api.message)).status == .tooManyRequests)
        }
    }
}
