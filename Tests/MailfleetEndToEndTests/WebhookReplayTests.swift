import Crypto
import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// The issue's replay: 1,000 messages sent through SendGrid (the simulator), then a mixed
/// stream of 10,030 webhook events in signed requests, each distinct one delivered twice, with
/// tampered and stale requests among them, concurrently. Exactly the expected events, statuses
/// and suppressions remain, and the refusals are counted by reason.
@Suite(.serialized) struct WebhookReplayTests {
    static let vectors = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/conformance/vectors")

    @Test func aMixedStreamLeavesExactlyTheExpectedState() async throws {
        let fleet = try await Fleet.start("webhook-replay", workers: 1, provider: .sendgrid)
        defer { fleet.stopNow() }
        // The account checks webhooks with the public key of sendgrid-go's test vector, whose
        // private key signs the stream below.
        let vector = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.vectors.appendingPathComponent("sendgrid/sendgrid_go_node_eventwebhook.json"))) as! [String: Any]
        let keyFile = fleet.stateDir + "/sendgrid-webhook.key"
        try (vector["public_key_b64_spki"] as! String).write(toFile: keyFile, atomically: true, encoding: .utf8)
        try fleet.cli(["providers", "update", "--tenant", fleet.tenantID, "--account", "sim", "--webhook-secret-file", keyFile])
        let shown = try fleet.cli(["providers", "webhook", "--tenant", fleet.tenantID, "--account", "sim", "--tracker-url", fleet.trackerURL])
        let webhookURL = String(shown.split(separator: "\n")[0])
        let privateKey = try P256.Signing.PrivateKey(derRepresentation: Data(base64Encoded: vector["private_key_b64_sec1"] as! String)!)

        // 1,000 messages to 1,000 recipients, all sent.
        let items = (0..<1000).map { #"{"from":"a@example.com","to":["r\#($0)@example.com"],"subject":"s","text":"t"}"# }
        let accepted = try await fleet.api("POST", "/v1/messages", json: #"{"messages":[\#(items.joined(separator: ","))]}"#)
        #expect(accepted.status == 202)
        let ids = try #require((Fleet.object(accepted)["messages"] as? [[String: Any]])?.compactMap { $0["id"] as? String })
        try #require(ids.count == 1000)
        #expect(try await fleet.eventually(seconds: 120) { try await fleet.count(status: "sent") == 1000 })

        // Per message: delivered, two opens, a click; every tenth a hard bounce after its
        // delivery, every 25th (from the second) a complaint. 4,140 distinct events.
        var events: [String] = []
        for (i, id) in ids.enumerated() {
            let base = #""email":"r\#(i)@example.com","mailfleet_message_id":"\#(id)","sg_message_id":"m\#(i).filter""#
            events.append(#"{"event":"delivered","timestamp":1800000000,"sg_event_id":"d\#(i)",\#(base)}"#)
            events.append(#"{"event":"open","timestamp":1800000001,"sg_event_id":"o\#(i)a",\#(base)}"#)
            events.append(#"{"event":"open","timestamp":1800000002,"sg_event_id":"o\#(i)b",\#(base)}"#)
            events.append(#"{"event":"click","timestamp":1800000003,"sg_event_id":"c\#(i)","url":"https://example.com/\#(i)",\#(base)}"#)
            if i % 10 == 0 {
                events.append(#"{"event":"bounce","timestamp":1800000004,"sg_event_id":"b\#(i)","type":"bounce","status":"5.1.1","reason":"550 5.1.1 user unknown",\#(base)}"#)
            }
            if i % 25 == 1 { events.append(#"{"event":"spamreport","timestamp":1800000005,"sg_event_id":"s\#(i)",\#(base)}"#) }
        }
        #expect(events.count == 4140)
        let batches = stride(from: 0, to: events.count, by: 50).map { "[" + events[$0..<min($0 + 50, events.count)].joined(separator: ",") + "]" }

        enum Copy { case genuine, tampered, stale }
        var requests: [(body: String, copy: Copy)] = batches.map { ($0, .genuine) } + batches.map { ($0, .genuine) }
        // 20 tampered and 15 stale requests of 50 events each: 10,030 events in all.
        for i in 0..<20 { requests.append((batches[i % batches.count], .tampered)) }
        for i in 0..<15 { requests.append((batches[(i * 7) % batches.count], .stale)) }
        #expect(requests.reduce(0) { $0 + $1.body.components(separatedBy: "sg_event_id").count - 1 } == 10_030)
        requests.shuffle()

        let now = Int(Date().timeIntervalSince1970)
        let prepared = try requests.map { request -> (body: [UInt8], headers: [HTTPHeader], copy: Copy) in
            let timestamp = String(request.copy == .stale ? now - 3600 : now)
            var body = Array(request.body.utf8)
            let signature = try privateKey.signature(for: Data(timestamp.utf8) + Data(body)).derRepresentation.base64EncodedString()
            // A changed click URL after signing.
            if request.copy == .tampered, let at = request.body.range(of: "https://example.com/") {
                body[request.body.utf8.distance(from: request.body.utf8.startIndex, to: at.upperBound.samePosition(in: request.body.utf8)!)] = UInt8(ascii: "X")
            }
            return (body, [
                HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Twilio-Email-Event-Webhook-Signature", signature),
                HTTPHeader("X-Twilio-Email-Event-Webhook-Timestamp", timestamp),
            ], request.copy)
        }
        let statuses = try await withThrowingTaskGroup(of: (Copy, Int).self) { group in
            var results: [(Copy, Int)] = []
            for (n, request) in prepared.enumerated() {
                if n >= 8, let done = try await group.next() { results.append(done) }
                group.addTask {
                    let answer = try await fleet.http.execute(HTTPRequest(method: "POST", url: webhookURL, headers: request.headers, body: request.body))
                    return (request.copy, answer.status)
                }
            }
            for try await done in group { results.append(done) }
            return results
        }
        #expect(statuses.filter { $0.0 == .genuine }.allSatisfy { $0.1 == 200 })
        #expect(statuses.filter { $0.0 != .genuine }.allSatisfy { $0.1 == 401 })
        #expect(statuses.count == 201)

        let counts = Dictionary(uniqueKeysWithValues: try await fleet.pool.query(
            "SELECT type, count(*) AS n FROM events WHERE provider_event_id IS NOT NULL GROUP BY type").map { (try $0.string("type"), try $0.int("n")) })
        #expect(counts == ["delivered": 1000, "opened": 2000, "clicked": 1000, "bounced": 100, "complained": 40])
        #expect(try await fleet.count(status: "bounced") == 100)
        #expect(try await fleet.count(status: "complained") == 40)
        #expect(try await fleet.count(status: "delivered") == 860)
        let suppressions = Dictionary(uniqueKeysWithValues: try await fleet.pool.query(
            "SELECT reason, count(*) AS n FROM suppressions WHERE event_id IS NOT NULL GROUP BY reason").map { (try $0.string("reason"), try $0.int("n")) })
        #expect(suppressions == ["bounce": 100, "complaint": 40])
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM suppressions").first!.int("n") == 140)

        let metrics = try await fleet.http.execute(HTTPRequest(url: fleet.trackerURL + "/metrics")).bodyString
        #expect(metrics.contains(#"mailfleet_webhook_rejected_total{provider="sendgrid",reason="stale"} 15"#))
        #expect(metrics.contains(#"mailfleet_webhook_rejected_total{provider="sendgrid",reason="bad_signature"} 20"#))
        #expect(metrics.contains(#"mailfleet_webhook_events_total{provider="sendgrid",type="opened"} 2000"#))
        // The tenant's report counters (its rates in PromQL) count each stored report once.
        let stored = Dictionary(uniqueKeysWithValues: try await fleet.pool.query(
            """
            SELECT CASE WHEN type = 'bounced' THEN 'hard_bounced' ELSE type END AS kind, count(*) AS n FROM events
            WHERE provider_event_id IS NOT NULL AND (type IN ('delivered', 'complained') OR (type = 'bounced' AND detail->>'bounce_type' = 'hard'))
            GROUP BY 1
            """).map { (try $0.string("kind"), try $0.int("n")) })
        #expect(stored.count == 3)
        for (kind, n) in stored {
            #expect(metrics.contains("mailfleet_tenant_messages_\(kind)_total{tenant_id=\"\(fleet.tenantID)\"} \(n)\n"))
        }
    }
}
