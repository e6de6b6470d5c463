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
        let listed = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID])
        let lines = listed.split(separator: "\n")
        #expect(lines.count == 2)
        let sim = try #require(lines.first { $0.contains("\tsim\t") })
        #expect(sim.hasSuffix("\tcircuit=open\tchanged=2025-12-01T12:00:00.000Z\topen_until=2025-12-01T12:00:05.000Z"), "\(sim)")
        let backup = try #require(lines.first { $0.contains("\tbackup\t") })
        #expect(backup.hasSuffix("\tcircuit=closed\tchanged=-\topen_until=-"), "\(backup)")

        // Half-open: no open-until shown.
        try fleet.redisCLI(["HSET", "mf:{cb:\(simID.lowercased())}:breaker", "phase", "2", "open_until", "0"])
        let probing = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID])
        #expect(probing.contains("\tcircuit=half_open\tchanged=2025-12-01T12:00:00.000Z\topen_until=-"), "\(probing)")

        // Redis away: the accounts are still listed, their circuits unknown, and the command succeeds.
        let away = try fleet.cli(["providers", "list", "--tenant", fleet.tenantID, "--redis-url", "redis://127.0.0.1:9/0"])
        let awayLines = away.split(separator: "\n")
        #expect(awayLines.count == 2)
        #expect(awayLines.allSatisfy { $0.hasSuffix("\tcircuit=unknown\tchanged=-\topen_until=-") }, "\(away)")
    }
}
