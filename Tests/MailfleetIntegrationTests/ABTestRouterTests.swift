import Foundation
import Hummingbird
import HummingbirdTesting
import MailfleetAPI
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// A/B-tested campaigns through the router: variants and `ab_test` validated with field
/// errors, the report at `/v1/campaigns/{id}/ab` as the OpenAPI document describes it.
@Suite("A/B tests through the API", .serialized)
struct ABTestRouterTests {
    @Test func anABTestIsCreatedValidatedAndReported() async throws {
        try await APIUnderTest.run { api, client in
            let send = api.auth(api.sendKey), read = api.auth(api.readKey)
            let list = UUID().uuidString.lowercased()
            try await api.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1::uuid, $2, 'news')", [list, api.tenantID])
            try await api.pool.query(
                "INSERT INTO contacts (id, tenant_id, email) SELECT gen_random_uuid(), $1, 'r' || n || '@example.com' FROM generate_series(1, 40) AS n",
                [api.tenantID])
            try await api.pool.query(
                "INSERT INTO list_members (list_id, contact_id, tenant_id, status) SELECT $1::uuid, id, tenant_id, 'subscribed' FROM contacts", [list])
            func post(_ body: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/campaigns", method: .post, headers: send, body: ByteBuffer(string: body))
            }
            let base = #""name":"ab","list_id":"\#(list)","from":"News <news@example.com>","subject":"Hi","text":"t","html":"<p>t</p>","track_clicks":true"#
            let variants = #""variants":[{"subject":"One"},{"subject":"Two","from":"Ada <ada@example.com>"}]"#
            let refusals: [(String, String)] = [
                (#"{\#(base),\#(variants)}"#, "ab_test"),
                (#"{\#(base),"ab_test":{"test_percent":10}}"#, "variants"),
                (#"{\#(base),"variants":[{"subject":"One"}],"ab_test":{"test_percent":10}}"#, "variants"),
                (#"{\#(base),\#(variants),"ab_test":{"test_percent":80}}"#, "ab_test.test_percent"),
                (#"{\#(base),\#(variants),"ab_test":{}}"#, "ab_test.test_percent"),
                (#"{\#(base),\#(variants),"ab_test":{"test_percent":10,"significance":0.9}}"#, "ab_test.significance"),
                (#"{\#(base),\#(variants),"ab_test":{"test_percent":10,"metric":"bought"}}"#, "ab_test.metric"),
                (#"{\#(base),\#(variants),"ab_test":{"test_percent":10,"wait":3}}"#, "ab_test.wait"),
                (#"{\#(base),"variants":[{"subject":"x"},{"subject":"x","colour":"red"}],"ab_test":{"test_percent":10}}"#, "variants[1].colour"),
                (#"{\#(base),"variants":[{"name":"A"},{"name":"A"}],"ab_test":{"test_percent":10}}"#, "variants[1].name"),
                (#"{\#(base),"variants":[{"subject":"x"},{"html":"{{#open}}"}],"ab_test":{"test_percent":10}}"#, "variants[1].html"),
                // A metric the campaign does not track, or a variant with no HTML part to track it in.
                (#"{\#(base),\#(variants),"ab_test":{"test_percent":10,"metric":"opened"}}"#, "ab_test.metric"),
                (#"{\#(base),"variants":[{"subject":"x"},{"text":"plain only"}],"ab_test":{"test_percent":10}}"#, "variants[1].html"),
            ]
            for (body, field) in refusals {
                let answer = try await post(body)
                #expect(answer.status == .unprocessableContent, "\(body)")
                #expect(try api.error(answer)?.field == field, "\(body)")
            }

            let created = try await post(#"{\#(base),\#(variants),"ab_test":{"test_percent":50,"decide_after_minutes":5}}"#)
            #expect(created.status == .created)
            let view = try api.object(created)
            let id = try #require(view["id"] as? String)
            #expect((view["variants"] as? [[String: Any]])?.map { $0["name"] as? String } == ["A", "B"])
            #expect((view["variants"] as? [[String: Any]])?[1]["from"] as? String == "Ada <ada@example.com>")
            #expect((view["ab_test"] as? [String: Any])?["metric"] as? String == "clicked")
            let validator = SchemaValidator(document: try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIRoute.document)) as? [String: Any]))
            #expect(validator.problems(view, ["$ref": "#/components/schemas/Campaign"], at: "campaign").isEmpty)

            #expect(try await client.execute(uri: "/v1/campaigns/\(id)/start", method: .post, headers: send).status == .ok)
            let store = CampaignStore(pool: api.pool)
            while case .expanded = try await store.expandNext(chunk: 15) {}
            let report = try await client.execute(uri: "/v1/campaigns/\(id)/ab", method: .get, headers: read)
            #expect(report.status == .ok)
            let body = try api.object(report)
            #expect(validator.problems(body, ["$ref": "#/components/schemas/ABTestReport"], at: "report").isEmpty)
            #expect(body["phase"] as? String == "testing" && body["state"] as? String == "testing" && body["winner"] == nil)
            let sent = (body["variants"] as? [[String: Any]])?.compactMap { ($0["counts"] as? [String: Any])?["sent"] as? Int }
            let made = try await api.pool.query("SELECT count(*) AS n FROM messages WHERE campaign_id = $1::uuid", [id]).first!.int("n")
            #expect(sent?.reduce(0, +) == made && made > 0 && made < 40)

            // Decided at its deadline (nothing clicked: the first variant's rate is as high as any).
            guard case .decided(_, let decision) = try await store.decideNextABTest(now: Date().addingTimeInterval(400)) else {
                Issue.record("decision")
                return
            }
            #expect(decision.rule == .highestRate && decision.winnerName == "A")
            let decided = try api.object(try await client.execute(uri: "/v1/campaigns/\(id)/ab", method: .get, headers: read))
            #expect(validator.problems(decided, ["$ref": "#/components/schemas/ABTestReport"], at: "report").isEmpty)
            #expect(decided["phase"] as? String == "decided" && decided["winner"] as? String == "A")
            #expect((decided["decision"] as? [String: Any])?["rule"] as? String == "highest_rate")

            // Scopes, another campaign without a test, and one that does not exist.
            #expect(try await client.execute(uri: "/v1/campaigns/\(id)/ab", method: .get, headers: api.auth("mf_nope")).status == .unauthorized)
            let plain = try api.object(try await post(#"{\#(base)}"#))
            let none = try await client.execute(uri: "/v1/campaigns/\(plain["id"] as! String)/ab", method: .get, headers: read)
            #expect(try none.status == .conflict && api.error(none)?.code == "no_ab_test")
            #expect(try await client.execute(uri: "/v1/campaigns/\(UUID().uuidString)/ab", method: .get, headers: read).status == .notFound)
        }
    }
}
