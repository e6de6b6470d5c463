import Foundation
import MailfleetCore
import Testing

/// An A/B-tested campaign through the real fleet: the scheduler makes the test cohort, waits
/// as `testing`, decides when the deadline comes (moved to now in the database, the test's
/// clock) and makes the winner for the rest; `mailfleet campaigns ab-report` shows it.
@Suite(.serialized) struct ABTestCampaignTests {
    @Test(.timeLimit(.minutes(3)))
    func theSchedulerTestsDecidesAndSendsTheWinnerToTheRest() async throws {
        let fleet = try await Fleet.start("ab-test", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        let contacts = 200
        let list = UUID().uuidString.lowercased()
        try await fleet.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, 'readers')", [list, fleet.tenantID])
        try await fleet.pool.query(
            "INSERT INTO contacts (id, tenant_id, email) SELECT gen_random_uuid(), $1::uuid, 'reader' || n || '@example.com' FROM generate_series(1, $2::int) AS n",
            [fleet.tenantID, contacts])
        try await fleet.pool.query(
            "INSERT INTO list_members (list_id, contact_id, tenant_id, status) SELECT $1::uuid, id, tenant_id, 'subscribed' FROM contacts WHERE tenant_id = $2::uuid",
            [list, fleet.tenantID])
        let created = try await fleet.api(
            "POST", "/v1/campaigns",
            json: #"""
                {"name":"ab","list_id":"\#(list)","from":"news@example.com","subject":"Hello","text":"Hi","html":"<p>Hi</p>","track_clicks":true,
                 "variants":[{"name":"calm"},{"name":"loud","subject":"HELLO"}],"ab_test":{"test_percent":30,"decide_after_minutes":60}}
                """#)
        try #require(created.status == 201, "\(created.bodyString)")
        let id = try #require(Fleet.object(created)["id"] as? String)
        try #require(try await fleet.api("POST", "/v1/campaigns/\(id)/start").status == 200)

        func state() async throws -> String {
            try await fleet.pool.query("SELECT state FROM campaigns WHERE id = $1::uuid", [id]).first!.string("state")
        }
        try #require(try await fleet.eventually(seconds: 30) { try await state() == "testing" })
        let cohort = try await fleet.pool.query("SELECT count(*) AS n FROM messages WHERE campaign_id = $1::uuid", [id]).first!.int("n")
        #expect(cohort > 20 && cohort < 110)
        let testing = try #require(try fleet.cliJSON(["campaigns", "ab-report", "--tenant", fleet.tenantID, id]) as? [String: Any])
        #expect(testing["phase"] as? String == "testing" && testing["winner"] == nil)

        // The deadline comes: nothing was clicked, so the first variant (the highest rate of equals) wins.
        try await fleet.pool.query("UPDATE campaigns SET ab_test_ends_at = now(), next_run_at = now() WHERE id = $1::uuid", [id])
        try #require(try await fleet.eventually(seconds: 30) { try await state() == "done" })
        let rows = try await fleet.pool.query(
            "SELECT count(DISTINCT contact_id) AS contacts, count(*) AS messages, count(*) FILTER (WHERE variant IS NULL AND content->>'subject' = 'Hello') AS rest FROM messages WHERE campaign_id = $1::uuid",
            [id])
        #expect(try rows.first!.int("contacts") == contacts && rows.first!.int("messages") == contacts && rows.first!.int("rest") == contacts - cohort)
        let report = try #require(try fleet.cliJSON(["campaigns", "ab-report", "--tenant", fleet.tenantID, id]) as? [String: Any])
        #expect(report["phase"] as? String == "decided" && report["winner"] as? String == "calm")
        #expect((report["decision"] as? [String: Any])?["rule"] as? String == "highest_rate")
        let table = try fleet.cli(["campaigns", "ab-report", "--tenant", fleet.tenantID, id])
        #expect(table.contains("VARIANT") && table.contains("loud") && table.contains("winner calm"))

        // The CLI creates one too; variants without a test, or a bad test, are refused.
        let body = fleet.stateDir + "/ab.html"
        try "<p>Hi</p>".write(toFile: body, atomically: true, encoding: .utf8)
        let create = ["campaigns", "create", "--tenant", fleet.tenantID, "--name", "cli-ab", "--list", list, "--from", "news@example.com",
                      "--subject", "Hello", "--html-file", body, "--variants", #"[{"subject":"One"},{"subject":"Two","from":"ada@example.com"}]"#]
        // A test of opens needs open tracking.
        let untracked = try fleet.cliRun(create + ["--ab-test", #"{"sample_size":40,"metric":"opened"}"#])
        #expect(untracked.status != 0 && untracked.stderr.contains("ab_test.metric"))
        let cliID = try fleet.cli(create + ["--track-opens", "--ab-test", #"{"sample_size":40,"metric":"opened"}"#]).trimmingCharacters(in: .whitespacesAndNewlines)
        let fresh = try #require(try fleet.cliJSON(["campaigns", "ab-report", "--tenant", fleet.tenantID, cliID]) as? [String: Any])
        #expect(fresh["phase"] as? String == "cohort" && (fresh["variants"] as? [[String: Any]])?.map { $0["name"] as? String } == ["A", "B"])
        #expect((fresh["test"] as? [String: Any])?["metric"] as? String == "opened")
        #expect(try fleet.cliRun(create).status == 64)
        let refused = try fleet.cliRun(create + ["--ab-test", #"{"test_percent":90}"#])
        #expect(refused.status != 0 && refused.stderr.contains("ab_test.test_percent"))
    }
}
