import Foundation
import Testing

/// `mailfleet providers list` shows each account's fleet-wide circuit breaker from Redis, and
/// still lists the accounts (circuit unknown) when Redis cannot be reached.
@Suite struct ProvidersCircuitCLITests {
    @Test func theListingShowsEachAccountsCircuitAndSurvivesRedisBeingAway() async throws {
        let fleet = try await Fleet.start("providers-circuit", workers: 0, provider: .sendgrid)
        defer { fleet.stopNow() }
        try fleet.cli(["providers", "add", "--tenant", fleet.tenantID, "--name", "backup", "--kind", "outbox", "--priority", "20"])
        let accounts = try await fleet.pool.query("SELECT id, name FROM provider_accounts")
        let simID = try #require(try accounts.first { try $0.string("name") == "sim" }?.string("id"))

        // The breaker's hash as the worker's script leaves it when the account trips
        // (docs/ARCHITECTURE.md, Redis key layout): open since `changed`, until `until`.
        let changed = 1_764_590_400_000, until = 1_764_590_405_000
        try fleet.redisCLI(["HSET", "mf:{cb:\(simID.lowercased())}:breaker", "phase", "1", "window", "", "trips", "1",
                            "open_until", "\(until)", "probes", "0", "successes", "0", "last_probe_at", "0", "changed_at", "\(changed)"])
        var rows = try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID])
        #expect(rows.count == 2)
        func circuit(_ name: String) -> [String: String]? {
            rows.first { $0["name"] as? String == name }?["circuit"] as? [String: String]
        }
        #expect(circuit("sim") == ["state": "open", "changed_at": "2025-12-01T12:00:00.000Z", "open_until": "2025-12-01T12:00:05.000Z"])
        #expect(circuit("backup") == ["state": "closed"])
        // The table says the same for people.
        let table = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID])
        let simLine = try #require(table.split(separator: "\n").first { $0.contains(" sim ") })
        #expect(simLine.hasSuffix("  open     2025-12-01 12:00:00 UTC  2025-12-01 12:00:05 UTC"), "\(simLine)")

        // Half-open: no open-until shown.
        try fleet.redisCLI(["HSET", "mf:{cb:\(simID.lowercased())}:breaker", "phase", "2", "open_until", "0"])
        rows = try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID])
        #expect(circuit("sim") == ["state": "half_open", "changed_at": "2025-12-01T12:00:00.000Z"])

        // Redis away: the accounts are still listed, their circuits unknown, and the command succeeds.
        rows = try fleet.cliRows(["providers", "list", "--tenant", fleet.tenantID, "--redis-url", "redis://127.0.0.1:9/0"])
        #expect(rows.count == 2)
        #expect(circuit("sim") == ["state": "unknown"] && circuit("backup") == ["state": "unknown"])
    }
}
