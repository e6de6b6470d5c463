import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// Sender health end to end: complaints arriving through verified provider webhooks push the
/// complaint rate past 0.3 % over the minimum volume; the scheduler leader pauses bulk mail by
/// itself; a bulk message then waits (not sent, not failed, no attempt counted) while a
/// transactional one goes; the tenant's admin key resumes and the bulk message goes.
@Suite(.serialized) struct BulkPauseTests {
    @Test func complaintsPauseBulkWhileTransactionalGoesAndAResumeReleasesIt() async throws {
        let fleet = try await Fleet.start(
            "bulk-pause", workers: 1, provider: .postmark,
            environment: [
                "MAILFLEET_HEALTH_MINIMUM_VOLUME": "4", "MAILFLEET_HEALTH_EVALUATE_EVERY_SECONDS": "1", "MAILFLEET_BULK_PAUSE_RECHECK_SECONDS": "2",
            ])
        defer { fleet.stopNow() }
        let shown = try fleet.cli(["providers", "webhook", "--tenant", fleet.tenantID, "--account", "sim", "--tracker-url", fleet.trackerURL])
            .split(separator: "\n").map(String.init)
        try #require(shown.count == 2)
        let secret = shown[1]
        let webhookURL = fleet.trackerURL + String(shown[0][shown[0].range(of: "/webhooks/")!.lowerBound...])

        func send(_ to: String, priority: String) async throws -> String {
            let answer = try await fleet.api(
                "POST", "/v1/messages", json: #"{"from":"news@news.example","to":["\#(to)"],"subject":"s","text":"t","priority":"\#(priority)"}"#)
            #expect(answer.status == 202)
            return try #require(Fleet.object(answer)["id"] as? String)
        }
        func status(_ id: String) async throws -> [String: Any] { Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)")) }
        func health() async throws -> [String: Any] { Fleet.object(try await fleet.api("GET", "/v1/health")) }

        var sent: [String] = []
        for i in 0..<4 { sent.append(try await send("reader\(i)@example.net", priority: "bulk")) }
        #expect(try await fleet.eventually { try await fleet.count(status: "sent") == 4 })
        // Under the limit so far: nothing paused.
        #expect(try await health()["bulk_paused"] as? Bool == false)

        // One complaint in four sent: 25 %, far above 0.3 %, over the minimum volume of 4.
        let complaint = """
            {"RecordType":"SpamComplaint","ID":901,"Type":"SpamComplaint","TypeCode":512,"MessageID":"pm-9","Email":"reader0@example.net",
             "BouncedAt":"\(ISO8601.format(Date()))","Metadata":{"mailfleet_message_id":"\(sent[0])"}}
            """
        let posted = try await fleet.http.execute(HTTPRequest(
            method: "POST", url: webhookURL,
            headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Basic " + Data("mailfleet:\(secret)".utf8).base64EncodedString())],
            body: Array(complaint.utf8)))
        #expect(posted.status == 200)
        #expect(try await fleet.eventually(seconds: 30) { try await health()["bulk_paused"] as? Bool == true })
        let report = try await health()
        let window = try #require(report["last_24h"] as? [String: Any])
        #expect(window["sent"] as? Int == 4)
        #expect(window["complained"] as? Int == 1)
        let pauses = try #require(report["pauses"] as? [[String: Any]])
        #expect(pauses.contains { ($0["reason"] as? String)?.contains("complaint rate 25% over") == true })

        // The CLI shows the same.
        let cli = try fleet.cli(["tenants", "health", "--tenant", fleet.tenantID, "--json"])
        let cliReport = try #require(try JSONSerialization.jsonObject(with: Data(cli.utf8)) as? [String: Any])
        #expect(cliReport["bulk_paused"] as? Bool == true)
        #expect((cliReport["domains"] as? [[String: Any]])?.first?["domain"] as? String == "news.example")

        // Workers read pauses through the cache they keep provider chains in (10 s): a pause
        // holds every worker's bulk within that time.
        try await Task.sleep(for: .seconds(11))
        let bulk = try await send("reader9@example.net", priority: "bulk")
        let transactional = try await send("reset@example.net", priority: "transactional")
        #expect(try await fleet.eventually(seconds: 30) { try await status(transactional)["status"] as? String == "sent" })
        // Bulk waits: queued, not sent, not failed, no attempt counted, its last error naming the pause.
        #expect(try await fleet.holds(until: Date().addingTimeInterval(3)) {
            let now = try await status(bulk)["status"] as? String
            return now == "queued" || now == "sending"
        })
        let held = try await status(bulk)
        #expect(held["attempts"] as? Int == 0)
        #expect((held["last_error"] as? String)?.contains("paused (sender health)") == true)

        // A read key may not resume; the tenant's admin key may, and it is audited.
        #expect(try await fleet.api("POST", "/v1/health/resume", json: "{}").status == 403)
        let admin = try fleet.cli(["keys", "create", "--tenant", fleet.tenantID, "--scopes", "admin"]).trimmingCharacters(in: .whitespacesAndNewlines)
        let resumed = try await fleet.api("POST", "/v1/health/resume", json: "{}", key: admin)
        #expect(resumed.status == 200)
        #expect((Fleet.object(resumed)["resumed"] as? [[String: Any]])?.isEmpty == false)
        #expect(try await health()["bulk_paused"] as? Bool == false)
        #expect(try await fleet.eventually(seconds: 40) { try await status(bulk)["status"] as? String == "sent" })
        // The complaint before the resume does not pause it again.
        #expect(try await health()["bulk_paused"] as? Bool == false)
        let audit = try fleet.cli(["audit", "list", "--tenant", fleet.tenantID])
        #expect(audit.contains("bulk.paused") && audit.contains("bulk.resumed"))
        let nothing = try fleet.cli(["tenants", "resume-bulk", "--tenant", fleet.tenantID, "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(nothing.utf8)) as? [Any])?.isEmpty == true)
    }
}
