import Foundation
import MailfleetCore
import Testing

/// ops/backup of a running fleet's record and ops/restore into a new, empty database: a second
/// fleet on the restored record, with an empty Redis and a new simulator, delivers every message
/// that was queued at backup time and none that was already sent.
@Suite(.serialized) struct BackupRestoreTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func aRestoredRecordDeliversWhatWasQueuedAndNothingTwice() async throws {
        let first = try await Fleet.start("backup", workers: 1, provider: .sendgrid)
        defer { first.stopNow() }
        func send(_ i: Int, sendAt: Date? = nil) async throws -> String {
            let when = sendAt.map { #","send_at":"\#(ISO8601.format($0))""# } ?? ""
            let response = try await first.api(
                "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["u\#(i)@example.com"],"subject":"S\#(i)","text":"x"\#(when)}"#)
            try #require(response.status == 202)
            return try #require(Fleet.object(response)["id"] as? String)
        }
        var sentIDs: [UUID] = []
        for i in 0..<5 { sentIDs.append(try #require(UUID(uuidString: try await send(i)))) }
        let sent = try await first.eventually(seconds: 60) { try await first.count(status: "sent") == 5 }
        try #require(sent)
        // Held queued by their send_at, far enough ahead that the first fleet stops before it.
        let due = Date().addingTimeInterval(20)
        var queued: [String] = []
        for i in 5..<9 { queued.append(try await send(i, sendAt: due)) }
        #expect(try await first.count(status: "queued") == queued.count)
        first.stopNow()
        #expect(try await first.count(status: "sent") == 5)
        #expect(try await first.count(status: "queued") == queued.count)

        let backup = first.stateDir + "/record.dump"
        _ = try runToCompletion("\(Self.root)/ops/backup", [first.databaseURL, backup], name: "ops/backup")
        await first.pool.shutdown()
        #expect(Date() < due, "the backup was taken after the queued messages fell due")

        // A database that already holds a record is refused.
        #expect(throws: FleetError.self) {
            try runToCompletion("\(Self.root)/ops/restore", [backup, first.databaseURL], name: "ops/restore")
        }

        // Restored onto a Postgres server of its own, where the mailfleet_tenant role does not
        // exist yet: the dump does not carry it, so ops/restore must create it.
        let postgres = try ScratchPostgres(name: "restore")
        defer { try? postgres.stop() }
        let second = try await Fleet.start(
            "restored", workers: 1, provider: .sendgrid, adminDatabaseURL: postgres.adminURL, restoring: backup)
        defer { second.stopNow() }
        // The restored record has the five as sent. (Not a count of all sent messages: on a
        // loaded machine the queued ones may already be due and sent by now.)
        #expect(try await second.pool.query(
            "SELECT count(*) AS n FROM messages WHERE status = 'sent' AND id = ANY($1::uuid[])", [sentIDs]
        ).first!.int("n") == 5)
        let delivered = try await second.eventually(seconds: 60) {
            try await second.pool.query(
                "SELECT count(*) AS n FROM messages WHERE status = 'sent' AND id = ANY($1::uuid[])", [queued.compactMap { UUID(uuidString: $0) }]
            ).first!.int("n") == queued.count
        }
        #expect(delivered)
        // Give a stray resend of the old sent ones time to show.
        try await Task.sleep(for: .seconds(2))
        let stats = try await second.simStats()
        #expect(stats["unique_messages"] as? Int == queued.count)
        #expect(stats["duplicate_deliveries"] as? Int == 0)
        #expect(try await second.count(status: "sent") == 5 + queued.count)
        // Tenant-scoped reads work on the restored record: the role and its grants came back.
        let shown = try await second.api("GET", "/v1/messages/\(queued[0])")
        #expect(shown.status == 200)
    }
}
