import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// The suppression loop end to end: a provider's hard-bounce webhook suppresses the address at
/// once, and a message to it that was queued before the bounce is held back at send (status
/// `suppressed`, a `dropped` event), never sent.
@Suite(.serialized) struct WebhookSuppressionTests {
    @Test func aMessageQueuedBeforeItsRecipientBouncedIsNotSent() async throws {
        let fleet = try await Fleet.start("webhook-suppression", workers: 1, provider: .postmark)
        defer { fleet.stopNow() }
        // The Postmark account was given a generated webhook password when it was added.
        let shown = try fleet.cli(["providers", "webhook", "--tenant", fleet.tenantID, "--account", "sim", "--tracker-url", fleet.trackerURL])
            .split(separator: "\n").map(String.init)
        try #require(shown.count == 2)
        let secret = shown[1]
        #expect(secret.count == 64)
        #expect(shown[0].hasPrefix("http://mailfleet:\(secret)@127.0.0.1:\(fleet.trackerPort)/webhooks/postmark/"))
        let webhookURL = fleet.trackerURL + String(shown[0][shown[0].range(of: "/webhooks/")!.lowerBound...])

        func send(_ extra: String = "") async throws -> String {
            let answer = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["gone@example.com"],"subject":"s","text":"t"\#(extra)}"#)
            #expect(answer.status == 202)
            return try #require(Fleet.object(answer)["id"] as? String)
        }
        let first = try await send()
        #expect(try await fleet.eventually { try await fleet.count(status: "sent") == 1 })
        // Queued now, due a few seconds later: after the bounce below has been recorded.
        let later = try await send(#","send_at":"\#(ISO8601.format(Date().addingTimeInterval(6)))""#)

        let bounce = """
            {"RecordType":"Bounce","ID":777,"Type":"HardBounce","TypeCode":1,"MessageID":"pm-1","Email":"gone@example.com",
             "Details":"550 5.1.1 no such user","BouncedAt":"\(ISO8601.format(Date()))","Metadata":{"mailfleet_message_id":"\(first)"}}
            """
        func post(_ authorization: String) async throws -> HTTPResponse {
            try await fleet.http.execute(HTTPRequest(
                method: "POST", url: webhookURL, headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", authorization)],
                body: Array(bounce.utf8)))
        }
        #expect(try await post("Basic " + Data("mailfleet:wrong".utf8).base64EncodedString()).status == 401)
        #expect(try await post("Basic " + Data("mailfleet:\(secret)".utf8).base64EncodedString()).status == 200)

        let suppression = try await fleet.api("GET", "/v1/suppressions/gone@example.com")
        #expect(suppression.status == 200)
        #expect(Fleet.object(suppression)["reason"] as? String == "bounce")
        let bounced = Fleet.object(try await fleet.api("GET", "/v1/messages/\(first)"))
        #expect(bounced["status"] as? String == "bounced")

        #expect(try await fleet.eventually(seconds: 30) {
            Fleet.object(try await fleet.api("GET", "/v1/messages/\(later)"))["status"] as? String == "suppressed"
        })
        let held = Fleet.object(try await fleet.api("GET", "/v1/messages/\(later)"))
        let types = (held["events"] as? [[String: Any]])?.compactMap { $0["type"] as? String } ?? []
        #expect(types.contains("dropped"))
        #expect(!types.contains("sent"))
        #expect(try await fleet.count(status: "sent") == 0)
    }
}
