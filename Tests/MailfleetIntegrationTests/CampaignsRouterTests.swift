import Foundation
import Hummingbird
import HummingbirdTesting
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// `/v1/campaigns` through the router, on the real stores: validation with field errors,
/// scopes, the commands and their 409s, progress and stats, listing, and tenant isolation.
@Suite("Campaigns through the API", .serialized)
struct CampaignsRouterTests {
    @Test func aCampaignIsCreatedStartedPausedAndCancelledWithClearErrors() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey), read = api.auth(api.readKey)
            let list = UUID().uuidString.lowercased()
            try await api.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1::uuid, $2, 'news')", [list, api.tenantID])
            try await api.pool.query(
                """
                INSERT INTO contacts (id, tenant_id, email) SELECT gen_random_uuid(), $1, 'r' || n || '@example.com' FROM generate_series(1, 3) AS n
                """, [api.tenantID])
            try await api.pool.query(
                "INSERT INTO list_members (list_id, contact_id, tenant_id, status) SELECT $1::uuid, id, tenant_id, 'subscribed' FROM contacts", [list])

            func post(_ body: String, headers: HTTPFields) async throws -> TestResponse {
                try await client.execute(uri: "/v1/campaigns", method: .post, headers: headers, body: ByteBuffer(string: body))
            }
            let good = #"{"name":"spring","list_id":"\#(list)","from":"News <news@example.com>","subject":"Hi {{email}}","text":"t","per_hour":100}"#
            // A read key may not create; bad input names its field.
            #expect(try await post(good, headers: read).status == .forbidden)
            let refusals: [(String, HTTPResponse.Status, String?)] = [
                (#"{"name":"x","list_id":"\#(UUID().uuidString)","from":"a@example.com","subject":"s","text":"t"}"#, .unprocessableContent, "list_id"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s"}"#, .unprocessableContent, "text"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s","text":"t","send_at":"2026-03-01T09:00:00"}"#, .unprocessableContent, "time_zone"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s","text":"t","send_at":"soon"}"#, .unprocessableContent, "send_at"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s","text":"t","per_hour":0}"#, .unprocessableContent, "per_hour"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","template_id":"\#(UUID().uuidString)"}"#, .unprocessableContent, "template_id"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s","text":"t","segment_id":"\#(UUID().uuidString)"}"#, .unprocessableContent, "segment_id"),
                (#"{"name":"x","list_id":"\#(list)","from":"a@example.com","subject":"s","text":"t","colour":"red"}"#, .unprocessableContent, "colour"),
                (#"{"name":"x","list_id":"not-a-uuid","from":"a@example.com","subject":"s","text":"t"}"#, .unprocessableContent, "list_id"),
                (#"{"name":"x","from":"a@example.com","subject":"s","text":"t"}"#, .badRequest, "list_id"),
                ("[", .badRequest, nil),
            ]
            for (body, status, field) in refusals {
                let answer = try await post(body, headers: send)
                #expect(answer.status == status, "\(body)")
                #expect(try api.error(answer)?.field == field, "\(body)")
            }

            let created = try await post(good, headers: send)
            #expect(created.status == .created)
            let view = try api.object(created)
            let id = try #require(view["id"] as? String)
            #expect(view["state"] as? String == "draft" && view["per_hour"] as? Int == 100 && view["from"] as? String == "News <news@example.com>")

            func command(_ name: String, _ headers: HTTPFields) async throws -> TestResponse {
                try await client.execute(uri: "/v1/campaigns/\(id)/\(name)", method: .post, headers: headers)
            }
            #expect(try await command("start", read).status == .forbidden)
            let paused = try await command("pause", send)
            #expect(try paused.status == .conflict && api.error(paused)?.code == "invalid_state")
            let started = try await command("start", send)
            #expect(try started.status == .ok && api.object(started)["state"] as? String == "running")
            #expect(try await command("start", send).status == .conflict)

            // The runner makes the messages; the API shows progress and stats.
            let store = CampaignStore(pool: api.pool)
            while case .expanded = try await store.expandNext(chunk: 2) {}
            _ = try await store.expandNext(chunk: 2)
            let shown = try api.object(try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: read))
            #expect(shown["state"] as? String == "done")
            let progress = try #require(shown["progress"] as? [String: Any])
            #expect(progress["expanded"] as? Int == 3 && progress["recipients_total"] as? Int == 3 && progress["percent"] as? Double == 100)
            #expect((shown["stats"] as? [String: Any])?["pending"] as? Int == 3)
            let cancel = try await command("cancel", send)
            #expect(try cancel.status == .conflict && api.error(cancel)?.code == "invalid_state")

            // A second campaign, cancelled before it runs.
            let second = try api.object(try await post(good.replacingOccurrences(of: "spring", with: "autumn"), headers: send))
            let secondID = try #require(second["id"] as? String)
            let cancelled = try await client.execute(uri: "/v1/campaigns/\(secondID)/cancel", method: .post, headers: send)
            #expect(try cancelled.status == .ok && api.object(cancelled)["state"] as? String == "cancelled")
            // Sent again (its answer lost): the same answer, not a 409.
            let again = try await client.execute(uri: "/v1/campaigns/\(secondID)/cancel", method: .post, headers: send)
            #expect(try again.status == .ok && api.object(again)["state"] as? String == "cancelled")

            // Listing: newest first, narrowed by state, paged.
            let all = try api.object(try await client.execute(uri: "/v1/campaigns", method: .get, headers: read))
            #expect((all["campaigns"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["autumn", "spring"])
            let done = try api.object(try await client.execute(uri: "/v1/campaigns?state=done", method: .get, headers: read))
            #expect((done["campaigns"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let page = try api.object(try await client.execute(uri: "/v1/campaigns?limit=1", method: .get, headers: read))
            let next = try #require(page["next"] as? String)
            let rest = try api.object(try await client.execute(uri: "/v1/campaigns?limit=1&after=\(next)", method: .get, headers: read))
            #expect((rest["campaigns"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [id])
            let badState = try await client.execute(uri: "/v1/campaigns?state=sleeping", method: .get, headers: read)
            #expect(try badState.status == .unprocessableContent && api.error(badState)?.field == "state")

            // Another tenant sees none of it.
            let other = try await TenantStore(pool: api.pool).createTenant(name: "other")
            let otherKey = api.auth(try await TenantStore(pool: api.pool).createKey(tenantID: other, scopes: [.send, .read]).plaintext)
            #expect(try await client.execute(uri: "/v1/campaigns/\(id)", method: .get, headers: otherKey).status == .notFound)
            #expect(try await client.execute(uri: "/v1/campaigns/\(id)/pause", method: .post, headers: otherKey).status == .notFound)
            #expect(try await client.execute(uri: "/v1/campaigns/not-a-uuid", method: .get, headers: read).status == .notFound)
        }
    }

    /// A campaign made from a template's latest version while versions are being added: the
    /// version it records is the one its parts were copied from (one read gives both).
    @Test func aCampaignRecordsTheVersionItsPartsWereCopiedFrom() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey)
            let list = UUID().uuidString.lowercased()
            try await api.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1::uuid, $2, 'news')", [list, api.tenantID])
            let templates = TemplateStore(pool: api.pool)
            let template = try await templates.create(tenantID: api.tenantID, name: "weekly", template: MessageTemplate(subject: "v1", text: "t", html: nil))
            let tenantID = api.tenantID
            let editing = Task {
                for n in 2...150 { _ = try await templates.addVersion(tenantID: tenantID, id: template.id, template: MessageTemplate(subject: "v\(n)", text: "t", html: nil)) }
            }
            let body = #"{"name":"weekly","list_id":"\#(list)","from":"news@example.com","template_id":"\#(template.id.lowercasedString)"}"#
            for _ in 0..<40 {
                let created = try await client.execute(uri: "/v1/campaigns", method: .post, headers: send, body: ByteBuffer(string: body))
                #expect(created.status == .created)
            }
            try await editing.value
            let rows = try await api.pool.query("SELECT subject, template_version FROM campaigns WHERE tenant_id = $1", [api.tenantID])
            #expect(rows.count == 40)
            for row in rows {
                #expect(try row.string("subject") == "v\(try row.int("template_version"))")
            }
        }
    }
}
