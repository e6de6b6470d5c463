import Foundation
import MailfleetCore
import MailfleetPostgres
import Testing

/// The admin CLI for people and scripts, run as the real `mailfleet` executable against the
/// test Postgres: `--json` listings, aligned tables, errors in words with their exit status,
/// and the migration's progress.
@Suite struct AdminCLITests {
    @Test func listingsPrintOneJSONDocumentWithStableFieldsAndNoSecrets() async throws {
        let fleet = try await Fleet.start("cli-json", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        let secretFile = fleet.stateDir + "/pm.key"
        try "pm-very-secret".write(toFile: secretFile, atomically: true, encoding: .utf8)
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "pm", "--kind", "postmark", "--priority", "20", "--secret-file", secretFile])

        let tenants = try fleet.cliRows(["tenants", "list"])
        #expect(tenants.map { Set($0.keys) } == [["id", "name", "created_at"]])
        #expect(tenants.first?["id"] as? String == fleet.tenantID && tenants.first?["name"] as? String == "cli-json")
        #expect(ISO8601.parse(tenants.first?["created_at"] as? String ?? "") != nil)

        let keys = try fleet.cliRows(["keys", "list", "--tenant", fleet.tenantID])
        #expect(keys.map { Set($0.keys) } == [["id", "tenant_id", "scopes", "created_at"]])  // never used, never revoked
        #expect(keys.first?["scopes"] as? [String] == ["send", "read"])
        #expect(!(try fleet.cli(["keys", "list", "--tenant", fleet.tenantID, "--json"])).contains(fleet.apiKey))

        let providers = try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID])
        #expect(providers.map { $0["name"] as? String } == ["outbox", "pm"])
        #expect(providers.allSatisfy { Set($0.keys).isSuperset(of: ["id", "name", "kind", "priority", "settings", "secret_set", "circuit"]) })
        #expect(providers.map { $0["secret_set"] as? Bool } == [false, true])
        #expect(!(try fleet.cli(["providers", "list", "--tenant", fleet.tenantID, "--json"])).contains("pm-very-secret"))

        let audit = try fleet.cliRows(["audit", "list", "--tenant", fleet.tenantID])
        #expect(audit.first?["action"] as? String == "provider.added")
        #expect(audit.allSatisfy { Set($0.keys).isSuperset(of: ["occurred_at", "tenant_id", "actor", "action", "detail"]) })
        #expect((audit.first?["detail"] as? [String: Any])?["secret"] as? String == "set")

        #expect(try fleet.cliRows(["dlq", "list"]).isEmpty)

        let status = try #require(try fleet.cliJSON(["status"]) as? [String: Any])
        let messages = try #require(status["messages"] as? [String: Int])
        #expect(Set(messages.keys) == Set(MessageStatus.allCases.map(\.rawValue)))
        #expect(Set((status["queue"] as? [String: Int] ?? [:]).keys) == ["ready_transactional", "ready_bulk", "leased", "delayed"])
    }

    @Test func tablesLineUpByDisplayWidthWithAHeaderAndNoTrailingSpaces() async throws {
        let fleet = try await Fleet.start("cli-table", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        try fleet.cli(["tenants", "create", "--name", "日本の送信者"])
        try fleet.cli(["tenants", "create", "--name", "x"])
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "a-rather-long-account-name", "--kind", "outbox", "--priority", "7"])

        let tenants = try fleet.cli(["tenants", "list"]).split(separator: "\n").map(String.init)
        #expect(tenants.count == 4)
        #expect(tenants.first?.hasPrefix("ID") == true && tenants.first?.contains("NAME") == true)
        // CREATED starts in the same terminal column on every line, whatever the name's script.
        let createdColumn = try #require(tenants.first.flatMap(Self.column(of: "CREATED")))
        let created = try fleet.cliRows(["tenants", "list"]).map { TextTable.time(ISO8601.parse($0["created_at"] as? String ?? "") ?? .distantPast) }
        #expect(zip(tenants.dropFirst(), created).map { Self.column(of: $1)($0) } == [createdColumn, createdColumn, createdColumn], "\(tenants)")
        #expect(tenants.allSatisfy { !$0.hasSuffix(" ") })

        let providers = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID]).split(separator: "\n").map(String.init)
        #expect(providers.count == 3)
        // PRIORITY is right-aligned: the numbers end where the title ends.
        let end = TextTable.displayWidth("PRIORITY")
        #expect(providers.dropFirst().map { String($0.prefix(end)).trimmingCharacters(in: .whitespaces) } == ["7", "10"])
        #expect(providers.dropFirst().allSatisfy { $0.prefix(end).last != " " })
        let nameColumn = try #require(providers.first.flatMap(Self.column(of: "NAME")))
        #expect(Self.column(of: "a-rather")(providers[1]) == nameColumn && Self.column(of: "outbox")(providers[2]) == nameColumn, "\(providers)")
        #expect(providers.allSatisfy { !$0.hasSuffix(" ") })
    }

    @Test func errorsSayWhatIsWrongInWordsWithTheirExitStatus() async throws {
        let fleet = try await Fleet.start("cli-errors", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        // The fleet's tenant already has an account named outbox.
        let duplicate = try fleet.cliRun(["providers", "add", "--tenant", fleet.tenantID, "--name", "outbox", "--kind", "outbox"])
        #expect(duplicate.status == 65)
        #expect(duplicate.stderr == "Error: a provider account named 'outbox' already exists for tenant '\(fleet.tenantID)'\n")
        #expect(duplicate.stdout.isEmpty)
        #expect(!duplicate.stderr.contains("PostgresError") && !duplicate.stderr.contains("23505"))

        let missing = UUID().uuidString.lowercased()
        let noTenant = try fleet.cliRun(["providers", "list", "--tenant", missing])
        #expect(noTenant.status == 65 && noTenant.stderr == "Error: no tenant '\(missing)'\n")
        let noAccount = try fleet.cliRun(["providers", "remove", "--tenant", fleet.tenantID, "--account", "nope"])
        #expect(noAccount.status == 65 && noAccount.stderr.contains("has no provider account 'nope'"))

        let notUUID = try fleet.cliRun(["keys", "list", "--tenant", "acme"])
        #expect(notUUID.status == 64 && notUUID.stderr.contains("'acme' is not a valid UUID"))

        let away = try fleet.cliRun(["tenants", "list"], environment: ["MAILFLEET_DATABASE_URL": "postgres://postgres@127.0.0.1:9/none"])
        #expect(away.status == 69 && away.stderr.hasPrefix("Error: cannot reach Postgres"))
        let noRedis = try fleet.cliRun(["status"], environment: ["MAILFLEET_REDIS_URL": "redis://127.0.0.1:9/0"])
        #expect(noRedis.status == 69 && noRedis.stderr.hasPrefix("Error: cannot reach Redis"))
    }

    @Test func migrateReportsEachMigrationOnStderrAndItsAnswerOnStdout() async throws {
        let fleet = try await Fleet.start("cli-migrate", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        let admin = try #require(ProcessInfo.processInfo.environment["MAILFLEET_TEST_ADMIN_DATABASE_URL"])
        let name = "mf_e2e_migrate_\(UUID().uuidString.prefix(8).lowercased())"
        let pool = PostgresPool(url: admin, size: 1, name: "e2e-migrate")
        try await pool.query("CREATE DATABASE \(name)")
        await pool.shutdown()
        let fresh = String(admin[..<admin.lastIndex(of: "/")!]) + "/\(name)"

        let first = try fleet.cliRun(["migrate"], environment: ["MAILFLEET_DATABASE_URL": fresh])
        #expect(first.status == 0)
        #expect(first.stdout.hasPrefix("applied migrations: 1, 2"))
        // Not a terminal: one plain line per migration, the last one complete.
        let lines = first.stderr.split(separator: "\n").filter { $0.hasPrefix("migration ") }
        #expect(lines.count >= 2)
        #expect(lines.first == "migration 1: 1 of \(lines.count) applied")
        #expect(lines.last == "migration \(lines.count): \(lines.count) of \(lines.count) applied")

        let again = try fleet.cliRun(["migrate"], environment: ["MAILFLEET_DATABASE_URL": fresh])
        #expect(again.status == 0 && again.stdout == "schema is up to date\n" && again.stderr.isEmpty)
    }

    /// The terminal column where `text` starts in a line, or nil.
    static func column(of text: String) -> (String) -> Int? {
        { line in line.range(of: text).map { TextTable.displayWidth(String(line[..<$0.lowerBound])) } }
    }
}
