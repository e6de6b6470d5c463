import Foundation
import MailfleetHTTPClient
import Testing

@Suite(.serialized) struct TenantAPITests {
    static func error(_ response: HTTPResponse) -> [String: Any] { Fleet.object(response)["error"] as? [String: Any] ?? [:] }

    @Test func templatesRenderPreviewVersionAndSendAndStayWithinTheirTenant() async throws {
        let fleet = try await Fleet.start("templates", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let otherTenant = try fleet.cli(["tenants", "create", "--name", "other"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let otherKey = try fleet.cli(["keys", "create", "--tenant", otherTenant, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)

        let created = try await fleet.api("POST", "/v1/templates", json: #"""
            {"name":"order","subject":"Order {{number}}","text":"Hi {{name}}:{{#items}} {{title}}{{/items}}","html":"<p>Hi {{name}}</p><ul>{{#items}}<li>{{title}}</li>{{/items}}</ul>"}
            """#)
        #expect(created.status == 201)
        let id = try #require(Fleet.object(created)["id"] as? String)
        #expect(Fleet.object(created)["version"] as? Int == 1)

        let variables = #"{"name":"Ada <3","number":42,"items":[{"title":"Tea & cake"},{"title":"Jam"}]}"#
        let preview = try await fleet.api("POST", "/v1/templates/\(id)/preview", json: #"{"variables":\#(variables)}"#)
        #expect(preview.status == 200)
        let rendered = Fleet.object(preview)
        #expect(rendered["subject"] as? String == "Order 42")
        #expect(rendered["text"] as? String == "Hi Ada <3: Tea & cake Jam")
        #expect(rendered["html"] as? String == "<p>Hi Ada &lt;3</p><ul><li>Tea &amp; cake</li><li>Jam</li></ul>")

        let sent = try await fleet.api("POST", "/v1/messages", json: #"{"from":"shop@example.com","to":["ada@example.com"],"template_id":"\#(id)","variables":\#(variables)}"#)
        #expect(sent.status == 202)
        let messageID = try #require(Fleet.object(sent)["id"] as? String)
        #expect(Fleet.object(try await fleet.api("GET", "/v1/messages/\(messageID)"))["subject"] as? String == "Order 42")

        let second = try await fleet.api("POST", "/v1/templates/\(id)/versions", json: #"{"subject":"Order {{number}} (v2)","text":"v2"}"#)
        #expect(second.status == 201)
        #expect(Fleet.object(second)["version"] as? Int == 2)
        #expect(Fleet.object(try await fleet.api("GET", "/v1/templates/\(id)"))["subject"] as? String == "Order {{number}} (v2)")
        #expect(Fleet.object(try await fleet.api("GET", "/v1/templates/\(id)?version=1"))["subject"] as? String == "Order {{number}}")
        let listed = Fleet.object(try await fleet.api("GET", "/v1/templates"))["templates"] as? [[String: Any]] ?? []
        #expect(listed.compactMap { $0["id"] as? String } == [id])

        // Bad templates and bad references answer with the field named.
        let broken = try await fleet.api("POST", "/v1/templates", json: #"{"name":"x","subject":"s","text":"{{#a}}unclosed"}"#)
        #expect(broken.status == 422)
        #expect(Self.error(broken)["field"] as? String == "text")
        let both = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)","subject":"s"}"#)
        #expect(both.status == 400 || both.status == 422)
        #expect(Self.error(both)["field"] as? String == "template_id")

        // Another tenant sees none of it: 404 everywhere, and its list is empty.
        for (method, path, body) in [
            ("GET", "/v1/templates/\(id)", nil), ("DELETE", "/v1/templates/\(id)", nil),
            ("POST", "/v1/templates/\(id)/preview", "{}"), ("POST", "/v1/templates/\(id)/versions", #"{"subject":"s","text":"t"}"#),
            ("GET", "/v1/messages/\(messageID)", nil),
        ] as [(String, String, String?)] {
            #expect(try await fleet.api(method, path, json: body, key: otherKey).status == 404, "\(method) \(path)")
        }
        #expect((Fleet.object(try await fleet.api("GET", "/v1/templates", key: otherKey))["templates"] as? [Any])?.isEmpty == true)
        let foreign = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["b@example.com"],"template_id":"\#(id)"}"#, key: otherKey)
        #expect(foreign.status == 422)
        #expect(Self.error(foreign)["code"] as? String == "template_not_found")

        #expect(try await fleet.api("DELETE", "/v1/templates/\(id)").status == 204)
        #expect(try await fleet.api("GET", "/v1/templates/\(id)").status == 404)
        // Accepted mail keeps its rendered content after the template is gone.
        #expect(Fleet.object(try await fleet.api("GET", "/v1/messages/\(messageID)"))["subject"] as? String == "Order 42")
    }

    @Test func suppressedRecipientsAreNeverSentAndListsStayWithinTheirTenant() async throws {
        let fleet = try await Fleet.start("suppressions", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let otherTenant = try fleet.cli(["tenants", "create", "--name", "other"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let otherKey = try fleet.cli(["keys", "create", "--tenant", otherTenant, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)

        #expect(try await fleet.api("POST", "/v1/suppressions", json: #"{"email":"Blocked@Example.com","reason":"bounce"}"#).status == 201)
        #expect(try await fleet.api("POST", "/v1/suppressions", json: #"{"email":"nope"}"#).status == 422)
        #expect(try await fleet.api("POST", "/v1/suppressions", json: #"{"email":"x@example.com","why":"typo"}"#).status == 422)
        let shown = try await fleet.api("GET", "/v1/suppressions/blocked@example.com")
        #expect(shown.status == 200)
        #expect(Fleet.object(shown)["reason"] as? String == "bounce")

        // Only recipient suppressed: stored as suppressed, never enqueued or sent.
        let blocked = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["blocked@example.com"],"subject":"s","text":"t"}"#)
        #expect(blocked.status == 202)
        #expect(Fleet.object(blocked)["status"] as? String == "suppressed")
        let blockedID = try #require(Fleet.object(blocked)["id"] as? String)
        // One of two recipients suppressed: the other still gets it.
        let partial = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["ok@example.com"],"cc":["BLOCKED@example.com"],"subject":"s","text":"t"}"#)
        #expect(Fleet.object(partial)["status"] as? String == "queued")
        #expect(Fleet.object(partial)["suppressed_recipients"] as? [String] == ["blocked@example.com"])
        let partialID = try #require(Fleet.object(partial)["id"] as? String)
        let delivered = try await fleet.eventually(seconds: 30) { FileManager.default.fileExists(atPath: "\(fleet.outboxDir)/\(partialID).eml") }
        #expect(delivered)
        let eml = try String(contentsOfFile: "\(fleet.outboxDir)/\(partialID).eml", encoding: .utf8)
        #expect(!eml.lowercased().contains("blocked@example.com"))
        // The message sent after the suppressed one is delivered, so the worker has had its chance.
        let view = Fleet.object(try await fleet.api("GET", "/v1/messages/\(blockedID)"))
        #expect(view["status"] as? String == "suppressed")
        #expect(!FileManager.default.fileExists(atPath: "\(fleet.outboxDir)/\(blockedID).eml"))
        #expect(try await fleet.count(status: "suppressed") == 1)

        // The other tenant neither sees nor is bound by this list.
        #expect(try await fleet.api("GET", "/v1/suppressions/blocked@example.com", key: otherKey).status == 404)
        #expect(try await fleet.api("DELETE", "/v1/suppressions/blocked@example.com", key: otherKey).status == 404)
        #expect((Fleet.object(try await fleet.api("GET", "/v1/suppressions", key: otherKey))["suppressions"] as? [Any])?.isEmpty == true)
        let theirs = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["blocked@example.com"],"subject":"s","text":"t"}"#, key: otherKey)
        #expect(Fleet.object(theirs)["status"] as? String == "queued")

        #expect(try await fleet.api("DELETE", "/v1/suppressions/blocked@example.com").status == 204)
        #expect(try await fleet.api("GET", "/v1/suppressions/blocked@example.com").status == 404)
    }

    @Test func keysRotateAndRevokeRateLimitsAnswer429AndAdminActionsAreAudited() async throws {
        let fleet = try await Fleet.start("keys", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let body = #"{"from":"a@example.com","to":["b@example.com"],"subject":"s","text":"t"}"#
        let keyID = String(fleet.apiKey.split(separator: "_")[2])

        let listed = try fleet.cli(["keys", "list", "--tenant", fleet.tenantID])
        #expect(listed.contains(keyID))
        #expect(!listed.contains(fleet.apiKey))

        // Rotation with a grace period: both keys work; then revoking the old one ends it.
        let rotated = try fleet.cli(["keys", "rotate", "--id", keyID, "--grace", "3600"]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(rotated.hasPrefix("mf_live_") && rotated != fleet.apiKey)
        #expect(try await fleet.api("POST", "/v1/messages", json: body, key: rotated).status == 202)
        #expect(try await fleet.api("POST", "/v1/messages", json: body).status == 202)
        try fleet.cli(["keys", "revoke", "--id", keyID])
        // The documented bound is the 10 s authentication cache.
        let refused = try await fleet.eventually(seconds: 15) { try await fleet.api("POST", "/v1/messages", json: body).status == 401 }
        #expect(refused)
        #expect(try await fleet.api("POST", "/v1/messages", json: body, key: rotated).status == 202)

        // Per-tenant rate limit, set before the tenant's first request.
        let limited = try fleet.cli(["tenants", "create", "--name", "limited"]).trimmingCharacters(in: .whitespacesAndNewlines)
        try fleet.cli(["tenants", "set-rate-limit", "--tenant", limited, "--per-minute", "2"])
        let limitedKey = try fleet.cli(["keys", "create", "--tenant", limited, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let first = try await fleet.api("POST", "/v1/messages", json: body, key: limitedKey)
        #expect(first.status == 202)
        #expect(first.header("RateLimit-Limit") == "2")
        #expect(first.header("RateLimit-Remaining") == "1")
        #expect(try await fleet.api("GET", "/v1/templates", key: limitedKey).status == 200)
        let third = try await fleet.api("POST", "/v1/messages", json: body, key: limitedKey)
        #expect(third.status == 429)
        #expect(Self.error(third)["code"] as? String == "rate_limited")
        #expect(third.header("RateLimit-Remaining") == "0")
        let retryAfter = Int(third.header("Retry-After") ?? "") ?? 0
        #expect(retryAfter >= 1 && retryAfter <= 30)
        // Other tenants are not affected.
        #expect(try await fleet.api("POST", "/v1/messages", json: body, key: rotated).status == 202)

        let audit = Set(try fleet.cliRows(["audit", "list"]).compactMap { $0["action"] as? String })
        for action in ["tenant.created", "key.created", "key.rotated", "key.revoked", "tenant.updated"] {
            #expect(audit.contains(action), "audit log lacks \(action)")
        }
        let scoped = try fleet.cli(["audit", "list", "--tenant", limited])
        #expect(!scoped.contains("key.rotated") && scoped.contains("tenant.updated"))
    }

    @Test func openAPIIsServed() async throws {
        let fleet = try await Fleet.start("openapi", workers: 1, provider: .outbox)
        defer { fleet.stopNow() }
        let response = try await fleet.http.execute(HTTPRequest(url: fleet.apiURL + "/openapi.json"))
        #expect(response.status == 200)
        #expect(Fleet.object(response)["openapi"] as? String == "3.1.0")
    }
}
