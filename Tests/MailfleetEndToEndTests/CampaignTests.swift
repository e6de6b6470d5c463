import Foundation
import MailfleetCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A campaign through the real fleet: 3,000 contacts, the scheduler (whose campaign runner
/// expands them in chunks of 50) SIGKILLed mid-expansion and started again. Every contact gets
/// exactly one message at the simulator: none twice (the cursor moves with each chunk's
/// commit), none skipped (a chunk killed before its commit is expanded again; messages
/// committed but never enqueued are found by reconciliation).
@Suite(.serialized) struct CampaignTests {
    @Test(.timeLimit(.minutes(5)))
    func aCampaignKilledMidExpansionReachesEveryContactExactlyOnce() async throws {
        let environment = ["MAILFLEET_CAMPAIGN_CHUNK": "50", "MAILFLEET_RECONCILE_AFTER_SECONDS": "3", "MAILFLEET_RECONCILE_EVERY_SECONDS": "1"]
        let fleet = try await Fleet.start("campaign-kill", workers: 2, provider: .sendgrid, environment: environment)
        defer { fleet.stopNow() }
        let contacts = 3000
        let list = UUID().uuidString.lowercased()
        try await fleet.pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1::uuid, $2::uuid, 'readers')", [list, fleet.tenantID])
        try await fleet.pool.query(
            """
            INSERT INTO contacts (id, tenant_id, email, attributes)
            SELECT gen_random_uuid(), $1::uuid, 'reader' || n || '@example.com', jsonb_build_object('first_name', 'Reader ' || n)
            FROM generate_series(1, $2::int) AS n
            """, [fleet.tenantID, contacts])
        try await fleet.pool.query(
            "INSERT INTO list_members (list_id, contact_id, tenant_id, status) SELECT $1::uuid, id, tenant_id, 'subscribed' FROM contacts WHERE tenant_id = $2::uuid",
            [list, fleet.tenantID])

        let created = try await fleet.api(
            "POST", "/v1/campaigns",
            json: #"{"name":"spring","list_id":"\#(list)","from":"news@example.com","subject":"Hello {{first_name}}","text":"Hi {{first_name}}"}"#)
        try #require(created.status == 201, "\(created.bodyString)")
        let id = try #require(Fleet.object(created)["id"] as? String)
        #expect(Fleet.object(created)["state"] as? String == "draft")
        try #require(try await fleet.api("POST", "/v1/campaigns/\(id)/start").status == 200)

        // Kill the scheduler once some chunks are committed and most are not.
        func expanded() async throws -> Int {
            try await fleet.pool.query("SELECT expanded FROM campaigns WHERE id = $1::uuid", [id]).first!.int("expanded")
        }
        try #require(try await fleet.eventually(seconds: 30) { try await expanded() >= 200 })
        let scheduler = try #require(fleet.process("scheduler"))
        kill(scheduler.processIdentifier, SIGKILL)
        scheduler.waitUntilExit()
        let atKill = try await expanded()
        try #require(atKill < contacts, "the campaign was fully expanded before the kill")
        _ = try await fleet.launch("scheduler", "mailfleet-scheduler", environment)

        let finished = try await fleet.eventually(seconds: 180) {
            try await fleet.pool.query(
                "SELECT count(*) FILTER (WHERE status = 'sent') AS sent FROM messages WHERE campaign_id = $1::uuid", [id]).first!.int("sent") == contacts
        }
        #expect(finished)

        // One message per contact in Postgres, each delivered exactly once at the simulator.
        let perContact = try await fleet.pool.query(
            """
            SELECT count(DISTINCT c.id) AS reached, count(m.id) AS messages FROM contacts c
            LEFT JOIN messages m ON m.contact_id = c.id AND m.campaign_id = $1::uuid
            """, [id]).first!
        #expect(try perContact.int("reached") == contacts && perContact.int("messages") == contacts)
        let ids = try await fleet.pool.query("SELECT id::text AS id FROM messages WHERE campaign_id = $1::uuid", [id]).map { try $0.string("id").lowercased() }
        let stats = try await fleet.simStats()
        let arrived = try await fleet.simArrivals()
        #expect(ids.count == contacts)
        #expect(ids.allSatisfy { arrived[$0] != nil }, "messages never delivered: \(ids.filter { arrived[$0] == nil }.prefix(5))")
        #expect(stats["unique_messages"] as? Int == contacts)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
        #expect(stats["recipients"] as? Int == contacts)

        // The API shows it done, with its progress and stats.
        let shown = Fleet.object(try await fleet.api("GET", "/v1/campaigns/\(id)"))
        #expect(shown["state"] as? String == "done")
        let progress = shown["progress"] as? [String: Any] ?? [:]
        #expect(progress["expanded"] as? Int == contacts && progress["recipients_total"] as? Int == contacts)
        #expect((shown["stats"] as? [String: Any])?["sent"] as? Int == contacts)
        // The CLI shows the same, as a table and as JSON.
        let json = try JSONSerialization.jsonObject(with: Data(try fleet.cli(["campaigns", "show", "--tenant", fleet.tenantID, id, "--json"]).utf8)) as? [String: Any]
        #expect(json?["state"] as? String == "done" && json?["expanded"] as? Int == contacts)
        #expect((json?["stats"] as? [String: Any])?["sent"] as? Int == contacts)
        let listed = try fleet.cli(["campaigns", "list", "--tenant", fleet.tenantID])
        #expect(listed.contains(id) && listed.contains("\(contacts)/\(contacts)"))
        #expect(throws: (any Error).self) { try fleet.cli(["campaigns", "pause", "--tenant", fleet.tenantID, id]) }
        // A second campaign made, started and cancelled with the CLI: nothing left queued.
        let textFile = fleet.stateDir + "/campaign.txt"
        try "Hi {{first_name}}".write(toFile: textFile, atomically: true, encoding: .utf8)
        let second = try fleet.cli([
            "campaigns", "create", "--tenant", fleet.tenantID, "--name", "autumn", "--list", list, "--from", "news@example.com", "--subject", "Autumn",
            "--text-file", textFile, "--send-at", ISO8601.format(Date().addingTimeInterval(3600)),
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try fleet.cli(["campaigns", "start", "--tenant", fleet.tenantID, second]).contains("scheduled"))
        #expect(try fleet.cli(["campaigns", "cancel", "--tenant", fleet.tenantID, second]).contains("cancelled"))
        print("campaign: \(contacts) contacts, scheduler killed at \(atKill) expanded; every contact delivered exactly once")
    }
}
