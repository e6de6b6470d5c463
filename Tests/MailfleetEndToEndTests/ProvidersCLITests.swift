import Foundation
import Testing

/// `mailfleet providers add/list/update/remove` against a real database.
@Suite struct ProvidersCLITests {
    @Test func accountsAreAddedUpdatedAndRemovedWithoutEverPrintingSecrets() async throws {
        let fleet = try await Fleet.start("providers-cli", workers: 0, provider: .outbox)
        defer { fleet.stopNow() }
        let secret = "key-very-secret-123"
        let secretFile = fleet.stateDir + "/mg.key"
        try secret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let added = try fleet.cli([
            "providers", "add", "--tenant", fleet.tenantID, "--name", "mg", "--kind", "mailgun", "--endpoint", "http://127.0.0.1:9",
            "--priority", "20", "--secret-file", secretFile, "--config", "domain=mg.example.com", "--config", "region=eu",
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(UUID(uuidString: added) != nil)
        var listed = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID])
        #expect(listed.contains("mailgun") && listed.contains("domain=mg.example.com,region=eu"))
        #expect(!listed.contains(secret))
        var account = try #require(try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID]).first { $0["kind"] as? String == "mailgun" })
        #expect(account["secret_set"] as? Bool == true && account["secret"] == nil)
        #expect(account["settings"] as? [String: String] == ["domain": "mg.example.com", "region": "eu"])

        let newSecret = "key-rotated-456"
        try newSecret.write(toFile: secretFile, atomically: true, encoding: .utf8)
        let updated = try fleet.cli([
            "providers", "update", "--tenant", fleet.tenantID, "--account", "mg", "--priority", "5", "--secret-file", secretFile,
            "--config", "region=", "--endpoint", "",
        ])
        #expect(!updated.contains(newSecret))
        listed = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID, "--json"])
        account = try #require(try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID]).first { $0["kind"] as? String == "mailgun" })
        #expect(account["priority"] as? Int == 5)
        #expect(account["settings"] as? [String: String] == ["domain": "mg.example.com"])
        #expect(account["endpoint"] == nil)  // the endpoint override is gone
        #expect(!listed.contains(newSecret))
        let stored = try await fleet.pool.query("SELECT secret, config->>'domain' AS domain FROM provider_accounts WHERE name = 'mg'")
        #expect(try stored.first?.string("secret") == newSecret)

        _ = try fleet.cli(["providers", "remove", "--tenant", fleet.tenantID, "--account", added])
        listed = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID])
        #expect(!listed.contains("mailgun"))
        #expect(throws: FleetError.self) { try fleet.cli(["providers", "remove", "--tenant", fleet.tenantID, "--account", "mg"]) }
        // Every change is in the audit log, which never shows a secret.
        let audit = try fleet.cli(["audit", "list", "--tenant", fleet.tenantID])
        for action in ["provider.added", "provider.updated", "provider.removed"] { #expect(audit.contains(action), "\(action) not audited") }
        #expect(!audit.contains(secret) && !audit.contains(newSecret))
        #expect(throws: FleetError.self) { try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "x", "--kind", "mailgun", "--config", "novalue"]) }
    }
}
