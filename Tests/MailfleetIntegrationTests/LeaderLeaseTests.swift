import Foundation
import MailfleetRedis
import MailfleetStore
import Testing

/// The scheduler's leader election against the real Redis: one holder at a time, renewal,
/// release, and takeover when a holder stops renewing.
@Suite("Leader lease")
struct LeaderLeaseTests {
    @Test func oneHolderAtATimeUntilReleased() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "lease-test")
        let key = "mf-test:leader:\(UUID().uuidString.lowercased())"
        let a = LeaderLease(redis: redis, key: key, holder: "a", milliseconds: 10_000)
        let b = LeaderLease(redis: redis, key: key, holder: "b", milliseconds: 10_000)
        #expect(try await a.acquire())
        #expect(try await !b.acquire())
        // Renewal by the holder succeeds; the other still cannot take it.
        #expect(try await a.acquire())
        #expect(try await !b.acquire())
        // Only the holder's release counts.
        #expect(try await !b.release())
        #expect(try await !b.acquire())
        #expect(try await a.release())
        #expect(try await b.acquire())
        #expect(try await !a.acquire())
        #expect(try await b.release())
        redis.shutdown()
    }

    @Test func renewalExtendsTheLease() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "lease-renew-test")
        let key = "mf-test:leader:\(UUID().uuidString.lowercased())"
        let holder = LeaderLease(redis: redis, key: key, holder: "holder", milliseconds: 10_000)
        #expect(try await holder.acquire())
        try await Task.sleep(for: .seconds(1))
        // Read from Redis rather than timed here, so a slow machine cannot make it fail.
        let before = try #require(try await redis.command("PTTL", key).int)
        #expect(try await holder.acquire())
        let after = try #require(try await redis.command("PTTL", key).int)
        #expect(after > before)
        #expect(try await holder.release())
        redis.shutdown()
    }

    @Test func aLeaseNotRenewedPassesToAStandby() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "lease-expiry-test")
        let key = "mf-test:leader:\(UUID().uuidString.lowercased())"
        let dead = LeaderLease(redis: redis, key: key, holder: "dead", milliseconds: 300)
        let standby = LeaderLease(redis: redis, key: key, holder: "standby", milliseconds: 10_000)
        #expect(try await dead.acquire())
        // Left alone, it expires and the standby takes over (polled, with a deadline).
        let deadline = ContinuousClock.now + .seconds(10)
        var taken = false
        while !taken && ContinuousClock.now < deadline {
            taken = try await standby.acquire()
            if !taken { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(taken)
        #expect(try await !dead.acquire())
        #expect(try await standby.release())
        redis.shutdown()
    }
}
