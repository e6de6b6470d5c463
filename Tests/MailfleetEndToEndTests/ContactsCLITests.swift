import Foundation
import MailfleetCore
import Testing

/// `mailfleet lists` and `mailfleet contacts` run as the real executable against the test
/// Postgres: a file imported with its refused rows by line, the same file again converging,
/// a refused file writing nothing, and the export reading back as the same contacts.
@Suite struct ContactsCLITests {
    @Test func aFileIsImportedRefusedRowsShownAndExported() async throws {
        let fleet = try await Fleet.start("cli-contacts", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        let list = try #require(try fleet.cliJSON(["lists", "create", "--tenant", fleet.tenantID, "--name", "Newsletter"]) as? [String: Any])
        let listID = try #require(list["id"] as? String)
        #expect(list["double_opt_in"] as? Bool == false)

        var csv = "\u{FEFF}email,first_name,time_zone\r\n"
        for index in 0..<5000 { csv += "user\(index)@example.com,\"Name, \(index)\",Europe/Berlin\r\n" }
        csv += "not-an-address,x,\r\nuser7@example.com,dup,\r\nlate@example.com,Late,Mars/Base\r\n"
        let file = fleet.stateDir + "/contacts.csv"
        try csv.write(toFile: file, atomically: true, encoding: .utf8)

        let first = try #require(try fleet.cliJSON(["contacts", "import", "--tenant", fleet.tenantID, "--list", listID, file]) as? [String: Any])
        #expect(first["state"] as? String == "completed")
        #expect((first["counts"] as? [String: Int]) == ["read": 5003, "imported": 5000, "updated": 0, "rejected": 2, "suppressed": 0, "duplicates": 1])
        let importID = try #require(first["id"] as? String)
        let errors = try fleet.cliRows(["contacts", "errors", "--tenant", fleet.tenantID, "--import", importID])
        #expect(errors.compactMap { $0["line"] as? Int } == [5002, 5004])

        // The same file again converges: every contact updated, none duplicated.
        let again = try #require(try fleet.cliJSON(["contacts", "import", "--tenant", fleet.tenantID, "--list", listID, file]) as? [String: Any])
        #expect((again["counts"] as? [String: Int])?["updated"] == 5000 && (again["counts"] as? [String: Int])?["imported"] == 0)
        let shown = try #require(try fleet.cliRows(["lists", "list", "--tenant", fleet.tenantID]).first)
        #expect((shown["members"] as? [String: Int]) == ["pending": 0, "subscribed": 5000, "unsubscribed": 0])

        // A file without an email column is refused before anything is written (exit 65).
        let bad = fleet.stateDir + "/bad.csv"
        try "name,city\nada,Berlin\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try fleet.cliRun(["contacts", "import", "--tenant", fleet.tenantID, "--list", listID, bad])
        #expect(refused.status == 65 && refused.stderr.contains("no email column") && refused.stdout.isEmpty)
        let unknownFormat = try fleet.cliRun(["contacts", "import", "--tenant", fleet.tenantID, "--list", listID, fleet.stateDir + "/x.txt"])
        #expect(unknownFormat.status == 64)

        // The export reads back as the same contacts.
        let exported = fleet.stateDir + "/export.ndjson"
        _ = try fleet.cli(["contacts", "export", "--tenant", fleet.tenantID, "--list", listID, "--format", "ndjson", "--output", exported])
        let lines = try String(contentsOfFile: exported, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5000)
        var parser = ContactFileParser(format: .ndjson)
        let rows = try parser.feed(Array(try Data(contentsOf: URL(fileURLWithPath: exported)))) + parser.finish()
        #expect(rows.count == 5000)
        let user0 = rows.compactMap { line -> ContactRow? in
            if case .row(let row) = line, row.email == "user0@example.com" { return row }
            return nil
        }
        #expect(user0.map(\.attributes) == [["first_name": .string("Name, 0")]] && user0.first?.timeZone == "Europe/Berlin")

        let contact = try #require(try fleet.cliJSON(["contacts", "show", "--tenant", fleet.tenantID, "--email", "USER7@example.com"]) as? [String: Any])
        #expect((contact["lists"] as? [[String: Any]])?.first?["status"] as? String == "subscribed")
        #expect((contact["attributes"] as? [String: String]) == ["first_name": "Name, 7"])
    }
}
