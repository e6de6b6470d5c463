import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

@Suite("Fleet-wide account pacing in Redis", .serialized)
struct AccountPacingStoreTests {
    static func client(_ name: String) throws -> RedisClient {
        RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: name)
    }

    /// A prefix of its own per test, so runs never see each other's paces.
    static func prefix() -> String { "it-pace-\(UUID().uuidString.prefix(8))" }

    @Test func theLuaPaceMatchesThePurePolicyOnRandomSequences() async throws {
        let redis = try Self.client("it-pace")
        defer { redis.shutdown() }
        // The made-up clock below runs far ahead of real time, and a loaded machine can take
        // seconds between two steps: a long expiry slack keeps Redis's real-time expiry out of
        // the comparison (the test below checks the expiry itself).
        let store = AccountPacingStore(redis: redis, prefix: Self.prefix(), expirySlackMs: 600_000)
        var rng = SystemRandomNumberGenerator()
        var sawDoubling = false, sawForgetting = false, sawUnchanged = false
        for round in 0..<30 {
            let pacing = AccountPacing(
                baseMs: 10 * Int.random(in: 1...20, using: &rng), maxMs: 10 * Int.random(in: 1...200, using: &rng),
                retryAfterMaxMs: 10 * Int.random(in: 1...100, using: &rng), memoryMs: 10 * Int.random(in: 1...50, using: &rng))
            let account = UUID()
            var pure: AccountPacing.State? = nil
            // Epoch milliseconds, as workers pass them.
            var now = 1_764_000_000_000 + Int.random(in: 0...1_000_000, using: &rng)
            var history: [String] = []
            for _ in 0..<60 {
                // Whole tens, so boundaries (exactly at the end of a pace or of its memory) come up.
                now += 10 * Int.random(in: 0...(Bool.random(using: &rng) ? 5 : 150), using: &rng)
                let retryAfter: Int? = Int.random(in: 0..<3, using: &rng) == 0 ? 10 * Int.random(in: 0...150, using: &rng) : nil
                history.append("429(\(retryAfter.map(String.init) ?? "-"))@\(now)")
                let expected = pacing.throttled(pure, retryAfterMs: retryAfter, nowMs: now)
                let got = try await store.throttled(account: account, retryAfterMs: retryAfter, pacing: pacing, nowMs: now)
                #expect(got == expected, "round \(round) \(pacing): \(history.suffix(10))")
                #expect(try await store.state(account: account) == expected, "round \(round): \(history.suffix(10))")
                if let before = pacing.remembered(pure, nowMs: now), retryAfter == nil {
                    if expected == before { sawUnchanged = true } else if expected.backoffMs > before.backoffMs { sawDoubling = true }
                } else if pure != nil, retryAfter == nil {
                    sawForgetting = true
                }
                pure = expected
                if got != expected { break }
            }
        }
        // The sequences went through every rule, or the comparison proves little.
        #expect(sawDoubling && sawForgetting && sawUnchanged)
    }

    @Test func onePacingIsSeenByEveryReplicaAndExpiresByItself() async throws {
        let first = try Self.client("it-pace-1")
        let second = try Self.client("it-pace-2")
        defer {
            first.shutdown()
            second.shutdown()
        }
        let prefix = Self.prefix()
        let one = AccountPacingStore(redis: first, prefix: prefix)
        let other = AccountPacingStore(redis: second, prefix: prefix)
        let account = UUID(uuidString: "0a1b2c3d-0000-4000-8000-000000000002")!
        let key = one.key(account)
        // In the account's breaker slot, so a cluster keeps both on one node.
        #expect(key == "\(prefix):{cb:0a1b2c3d-0000-4000-8000-000000000002}:paced")
        #expect(AccountPacingStore(redis: first).key(account).hasPrefix("mf:{cb:"))
        #expect(try await other.state(account: account) == nil)

        let now = Int((Date().timeIntervalSince1970 * 1000).rounded())
        let pacing = AccountPacing(memoryMs: 500)
        let state = try await one.throttled(account: account, retryAfterMs: 2_000, pacing: pacing, nowMs: now)
        #expect(state == AccountPacing.State(pacedUntilMs: now + 2_000, backoffMs: 0))
        #expect(try await other.state(account: account) == state)
        #expect(try await first.command("GET", key).string == "\(now + 2_000):0")
        // Kept for the pace, its memory and a second, then gone without anybody deleting it.
        let ttl = try #require(try await first.command("PTTL", key).int)
        #expect(ttl > 3_000 && ttl <= 3_500)
        #expect(try await other.state(account: UUID()) == nil)
    }
}
