import Foundation
import MailfleetHTTPClient
import Testing

/// End-to-end: a message the provider refuses for good becomes a dead letter that
/// `mailfleet dlq` lists, shows and re-drives, and it is delivered once the fault is gone; old
/// dead letters are purged, and a scheduler that starts leading keeps the messages' retention.
@Suite(.serialized) struct DeadLetterTests {
    @Test func aRejectedMessageIsListedRedrivenAndDeliveredOnceTheFaultIsGone() async throws {
        // Retention at its shortest (a day), and the scheduler's passes every second, so the
        // purge of an old dead letter is seen at once.
        let fleet = try await Fleet.start(
            "deadletter", workers: 1, provider: .postmark,
            environment: ["MAILFLEET_DEAD_LETTER_RETENTION_DAYS": "1", "MAILFLEET_RECONCILE_EVERY_SECONDS": "1"])
        defer { fleet.stopNow() }
        // Postmark answers 406 (inactive recipient) for this address: a permanent refusal.
        try await fleet.simControl(#"{"postmark_reject":["gone@example.com"]}"#)
        let response = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["gone@example.com"],"subject":"Hi","text":"x"}"#)
        #expect(response.status == 202)
        let id = try #require(Fleet.object(response)["id"] as? String)
        let failed = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "failed") == 1 }
        try #require(failed)

        // Listed (failed at, id, tenant, attempts, recipients, reason), by a case-insensitive
        // part of its reason; a filter that matches nothing lists nothing.
        let rows = try fleet.cliRows(["dlq", "list", "--tenant", fleet.tenantID, "--reason", "INACTIVE"])
        #expect(rows.count == 1)
        let row = rows.first ?? [:]
        #expect(row["id"] as? String == id && row["tenant_id"] as? String == fleet.tenantID)
        #expect(row["recipients"] as? [String] == ["gone@example.com"] && (row["attempts"] as? Int ?? 0) >= 1)
        #expect((row["reason"] as? String)?.contains("406") == true && row["failed_at"] is String)
        #expect(try fleet.cli(["dlq", "list", "--tenant", fleet.tenantID, "--reason", "INACTIVE"]).split(separator: "\n").count == 2)
        #expect(try fleet.cli(["dlq", "list", "--reason", "no such reason"]).isEmpty)
        #expect(try fleet.cliRows(["dlq", "list", "--reason", "no such reason"]).isEmpty)
        let shown = try #require(try fleet.cliJSON(["dlq", "show", id]) as? [String: Any])
        #expect(shown["status"] as? String == "failed" && shown["to"] as? [String] == ["gone@example.com"])
        #expect((shown["events"] as? [[String: Any]])?.contains { $0["type"] as? String == "failed" } == true)
        let shownTable = try fleet.cli(["dlq", "show", id])
        #expect(shownTable.contains("\nstatus    failed\n") && shownTable.contains("\nto        gone@example.com\n"))
        // The scheduler counts it from Postgres.
        let counted = try await fleet.eventually(seconds: 20) {
            try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(fleet.schedulerPort)/metrics")).bodyString.contains("mailfleet_dead_letters 1")
        }
        #expect(counted)

        // A re-drive of everything needs --all.
        #expect(throws: FleetError.self) { try fleet.cli(["dlq", "redrive"]) }
        try await fleet.simControl("{}")
        #expect(try fleet.cli(["dlq", "redrive", "--tenant", fleet.tenantID]).contains("re-driven 1 messages"))
        let sent = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 1 }
        #expect(sent)
        let stats = try await fleet.simStats()
        #expect(stats["unique_messages"] as? Int == 1)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
        let history = (Fleet.object(try await fleet.api("GET", "/v1/messages/\(id)"))["events"] as? [[String: Any]] ?? []).compactMap { $0["type"] as? String }
        #expect(history == ["accepted", "failed", "redriven", "sent"])
        // Nothing is failed any more: running it again re-drives nothing.
        #expect(try fleet.cli(["dlq", "redrive", "--all"]).contains("re-driven 0 messages"))
        #expect(try fleet.cli(["dlq", "list"]).isEmpty)

        // A dead letter older than the retention is deleted by the scheduler; the sent one stays.
        try await fleet.simControl(#"{"postmark_reject":["gone@example.com"]}"#)
        let again = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["gone@example.com"],"subject":"Again","text":"x"}"#)
        let oldID = try #require(Fleet.object(again)["id"] as? String)
        try #require(try await fleet.eventually(seconds: 60) { try await fleet.count(status: "failed") == 1 })
        try await fleet.pool.query("UPDATE messages SET updated_at = now() - interval '2 days' WHERE status = 'failed'")
        let purged = try await fleet.eventually(seconds: 30) { try await fleet.count(status: "failed") == 0 }
        #expect(purged)
        #expect(try await fleet.api("GET", "/v1/messages/\(oldID)").status == 404)
        #expect(try await fleet.count(status: "sent") == 1)

        // Retention: the tenant keeps its messages a day, and a day partition ahead is missing.
        // A scheduler that starts leading makes it again and deletes the sent message, now two
        // days old, with its events.
        #expect(try fleet.cli(["tenants", "set-retention", "--tenant", fleet.tenantID, "--days", "1"]).contains("retention: 1 days"))
        #expect(throws: FleetError.self) { try fleet.cli(["tenants", "set-retention", "--tenant", fleet.tenantID, "--days", "0"]) }
        let ahead = try await fleet.pool.query("SELECT to_char((now() AT TIME ZONE 'UTC')::date + 3, 'YYYYMMDD') AS day").first!.string("day")
        try await fleet.pool.query("DROP TABLE messages_\(ahead), events_\(ahead)")
        try await fleet.pool.query("UPDATE messages SET created_at = now() - interval '2 days'")
        let scheduler = try #require(fleet.process("scheduler"))
        scheduler.terminate()
        await fleet.waitForExit(scheduler, seconds: 30)
        let port = try await fleet.launch("scheduler-2", "mailfleet-scheduler", [:])
        let kept = try await fleet.eventually(seconds: 30) {
            let left = try await fleet.pool.query("SELECT count(*) AS n FROM messages").first!.int("n")
            let made = try await fleet.pool.query("SELECT to_regclass($1) IS NOT NULL AS made", ["events_\(ahead)"]).first!.bool("made")
            return left == 0 && made
        }
        #expect(kept)
        #expect(try await fleet.pool.query("SELECT count(*) AS n FROM events").first!.int("n") == 0)
        let metrics = try await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/metrics")).bodyString
        #expect(DeliveryTests.sample(metrics, "mailfleet_retention_partitions_made_total") == 1)
        #expect(DeliveryTests.sample(metrics, "mailfleet_retention_rows_deleted_total") == 1)
    }
}
