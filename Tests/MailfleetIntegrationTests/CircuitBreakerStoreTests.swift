import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

@Suite("Fleet-wide circuit breakers in Redis", .serialized)
struct CircuitBreakerStoreTests {
    static func client(_ name: String) throws -> RedisClient {
        RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: name)
    }

    /// A prefix of its own per test, so runs never see each other's breakers.
    static func prefix() -> String { "it-cb-\(UUID().uuidString.prefix(8))" }

    @Test func theLuaBreakerMatchesThePureMachineOnRandomSequences() async throws {
        let redis = try Self.client("it-cb")
        defer { redis.shutdown() }
        let store = CircuitBreakerStore(redis: redis, prefix: Self.prefix())
        var rng = SystemRandomNumberGenerator()
        // Times, durations and periods are whole tens of milliseconds so that the boundaries
        // (a call exactly at the end of the open period, exactly at the probe timeout, exactly
        // at the slow-call threshold) come up often.
        func tens(_ range: ClosedRange<Int>) -> Int { 10 * Int.random(in: range, using: &rng) }
        var phasesSeen: Set<CircuitBreaker.Phase> = []
        var transitionsSeen = 0
        // Rates that small windows hit exactly half the time, so the "at or above" boundary is
        // exercised, and arbitrary ones the rest.
        let boundaryRates = [20, 25, 34, 50, 60, 67, 75, 100] + (1...8).map { _ in Int.random(in: 1...100, using: &rng) }
        for round in 0..<40 {
            let configuration = CircuitBreaker.Configuration(
                windowSize: Int.random(in: 1...8, using: &rng), minimumCalls: Int.random(in: 1...6, using: &rng),
                failureRatePercent: boundaryRates.randomElement(using: &rng)!, slowCallMs: tens(2...8),
                openBaseMs: tens(1...30), openMaxMs: tens(1...300), halfOpenProbes: Int.random(in: 1...3, using: &rng),
                probeTimeoutMs: tens(1...40))
            let account = UUID()
            var pure = CircuitBreaker(configuration: configuration)
            // Epoch milliseconds, as the worker will pass them: well past 2^32, within Lua's exact range.
            var now = 1_764_000_000_000 + Int.random(in: 0...1_000_000, using: &rng)
            var history: [String] = []
            for _ in 0..<150 {
                now += Int.random(in: 0...10, using: &rng) == 0 ? tens(0...400) : tens(0...4)
                if Bool.random(using: &rng) {
                    history.append("call@\(now)")
                    let expected = pure.mayCall(nowMs: now)
                    let got = try await store.mayCall(account: account, configuration: configuration, nowMs: now)
                    #expect(got == expected, "round \(round) \(configuration): \(history.suffix(12))")
                    if expected.transition != nil { transitionsSeen += 1 }
                } else {
                    let outcome: CircuitBreaker.Outcome = Int.random(in: 0..<3, using: &rng) == 0 ? .failure : .success
                    let duration = tens(0...10)
                    history.append("\(outcome)(\(duration))@\(now)")
                    let expected = pure.record(outcome, durationMs: duration, nowMs: now)
                    let got = try await store.record(
                        account: account, outcome: outcome, durationMs: duration, configuration: configuration, nowMs: now)
                    #expect(got == expected, "round \(round) \(configuration): \(history.suffix(12))")
                    if expected != nil { transitionsSeen += 1 }
                }
                let state = try await store.state(account: account)
                #expect(state == pure.state, "round \(round) \(configuration): \(history.suffix(12))")
                phasesSeen.insert(pure.state.phase)
                if state != pure.state { break }
            }
        }
        // The sequences exercised every phase and many transitions, or the comparison proves little.
        #expect(phasesSeen == Set(CircuitBreaker.Phase.allCases))
        #expect(transitionsSeen > 50)
    }

    @Test func aTripRecordedByOneReplicaOpensTheBreakerForEveryOther() async throws {
        let first = try Self.client("it-cb-1")
        let second = try Self.client("it-cb-2")
        defer {
            first.shutdown()
            second.shutdown()
        }
        let prefix = Self.prefix()
        let one = CircuitBreakerStore(redis: first, prefix: prefix)
        let other = CircuitBreakerStore(redis: second, prefix: prefix)
        let configuration = CircuitBreaker.Configuration()
        let account = UUID()
        let neighbour = UUID()
        let t = 1_764_000_000_000
        #expect(try await other.mayCall(account: account, configuration: configuration, nowMs: t).decision == .call)
        for i in 0..<4 {
            #expect(try await one.record(account: account, outcome: .failure, durationMs: 30_000, configuration: configuration, nowMs: t + i) == nil)
        }
        let trip = try await one.record(account: account, outcome: .failure, durationMs: 30_000, configuration: configuration, nowMs: t + 4)
        #expect(trip == CircuitBreaker.Transition(from: .closed, to: .open, atMs: t + 4))
        // The other replica is refused at once, until the 5 s base period ends; other accounts are untouched.
        #expect(try await other.mayCall(account: account, configuration: configuration, nowMs: t + 5) == .init(decision: .refuse(retryAtMs: t + 5_004)))
        #expect(try await other.mayCall(account: neighbour, configuration: configuration, nowMs: t + 5).decision == .call)
        // Half-open: the replicas share the three probes between them.
        var decisions: [CircuitBreaker.Decision] = []
        for (store, offset) in [(other, 0), (one, 1), (other, 2), (one, 3)] {
            decisions.append(try await store.mayCall(account: account, configuration: configuration, nowMs: t + 5_004 + offset).decision)
        }
        // With every probe out, a caller is told to ask again within a second, not at the probe timeout.
        #expect(decisions == [.probe, .probe, .probe, .refuse(retryAtMs: t + 5_007 + CircuitBreaker.halfOpenRecheckMs)])
        #expect(try await one.state(account: account).phase == .halfOpen)
        // A probe whose worker never reports is given out again at the probe timeout, not before.
        #expect(try await one.mayCall(account: account, configuration: configuration, nowMs: t + 35_005).decision == .refuse(retryAtMs: t + 35_006))
        #expect(try await other.mayCall(account: account, configuration: configuration, nowMs: t + 35_006).decision == .probe)
    }

    @Test func stateLivesInOneHashTaggedKeyThatExpiresAndAClosedCheckWritesNothing() async throws {
        let redis = try Self.client("it-cb-keys")
        defer { redis.shutdown() }
        let prefix = Self.prefix()
        let store = CircuitBreakerStore(redis: redis, prefix: prefix)
        let account = UUID(uuidString: "0a1b2c3d-0000-4000-8000-000000000001")!
        let key = store.key(account)
        #expect(key == "\(prefix):{cb:0a1b2c3d-0000-4000-8000-000000000001}:breaker")
        #expect(CircuitBreakerStore(redis: redis).key(account).hasPrefix("mf:{cb:"))

        // Asking a closed breaker is read-only: no key appears, and an unknown account is closed.
        _ = try await store.mayCall(account: account, configuration: .init(), nowMs: 1_000)
        #expect(try await redis.command("EXISTS", key).int == 0)
        #expect(try await store.state(account: account) == CircuitBreaker.State())

        try await store.record(account: account, outcome: .failure, durationMs: 1, configuration: .init(), nowMs: 2_000)
        #expect(try await redis.command("HGET", key, "window").string == "1")
        let ttl = try #require(try await redis.command("PTTL", key).int)
        #expect(ttl > 86_000_000 && ttl <= 86_400_000)
    }
}
