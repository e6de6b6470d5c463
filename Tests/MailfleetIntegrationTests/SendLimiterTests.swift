import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

@Suite("Fleet-wide send limits in Redis", .serialized)
struct SendLimiterTests {
    static func client(_ name: String) throws -> RedisClient {
        RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: name)
    }

    /// A prefix of its own per test, so runs never see each other's limits.
    static func prefix() -> String { "it-sl-\(UUID().uuidString.prefix(8))" }

    static func realNowUs() -> Int { Int((Date().timeIntervalSince1970 * 1_000_000).rounded()) }

    @Test func theLuaRateMatchesThePureTwinOnRandomSequences() async throws {
        let redis = try Self.client("it-sl")
        defer { redis.shutdown() }
        let limiter = SendLimiter(redis: redis, prefix: Self.prefix())
        var rng = SystemRandomNumberGenerator()
        var sawPartial = false, sawRefusal = false, sawFull = false, sawGiveBack = false, sawBooking = false
        for round in 0..<25 {
            let rate = SendRate(perSecond: Int.random(in: 1...2_000, using: &rng), burst: Bool.random(using: &rng) ? nil : Int.random(in: 1...300, using: &rng))
            let subject = "twin:\(round)"
            var tat: Int? = nil
            var booked = 0
            // The made-up clock never runs slower than real time, and keys live a second past
            // their TAT, so a key Redis expires (in real time) has always run out in made-up time
            // too, however late a command reaches Redis: both then read a full bucket.
            var offset = 0
            var history: [String] = []
            for _ in 0..<80 {
                offset += Int.random(in: 0...(Bool.random(using: &rng) ? 2 * rate.intervalUs : 40 * rate.intervalUs), using: &rng)
                let now = Self.realNowUs() + offset
                if Int.random(in: 0..<5, using: &rng) == 0 {
                    let count = Int.random(in: 0...20, using: &rng)
                    history.append("give \(count)@\(now)")
                    let expected = rate.giveBack(count, nowUs: now, tatUs: tat)
                    try await limiter.giveBack([SendLimiter.Request(subject: subject, rate: rate, count: count)], nowUs: now)
                    let stored = try await limiter.tatUs(subject)
                    #expect((stored ?? now) == expected || ((stored ?? now) <= now && expected <= now), "round \(round) \(rate): \(history.suffix(8))")
                    tat = expected
                    sawGiveBack = true
                    continue
                }
                let wanted = Int.random(in: 0...(rate.burst * 2 + 2), using: &rng)
                history.append("take \(wanted)@\(now)")
                let expected = rate.take(wanted, nowUs: now, tatUs: tat, bookedUs: booked)
                let got = try await limiter.take([SendLimiter.Request(subject: subject, rate: rate, count: wanted)], nowUs: now)[0]
                #expect(got.nowUs == now)
                #expect(got.decision == expected, "round \(round) \(rate): \(history.suffix(8))")
                if got.decision != expected { break }
                if expected.admitted == 0 && wanted > 0 { sawRefusal = true }
                else if expected.admitted < wanted { sawPartial = true }
                else if wanted > 0 { sawFull = true }
                tat = expected.tatUs
                booked = expected.bookedUs
                if expected.admitted < wanted && booked > expected.tatUs { sawBooking = true }
            }
        }
        // The sequences went through every case, or the comparison proves little.
        #expect(sawPartial && sawRefusal && sawFull && sawGiveBack && sawBooking)
    }

    @Test func limitsAreSharedByEveryReplicaWithRedisClockAndKeysOfTheirOwnSlot() async throws {
        let first = try Self.client("it-sl-1")
        let second = try Self.client("it-sl-2")
        defer {
            first.shutdown()
            second.shutdown()
        }
        let prefix = Self.prefix()
        let one = SendLimiter(redis: first, prefix: prefix)
        let other = SendLimiter(redis: second, prefix: prefix)
        #expect(one.key("acct:x:msg") == "\(prefix):{sl:acct:x:msg}")
        // Per second 1: a burst of one, then nothing for a second, whoever asks.
        let rate = SendRate(perSecond: 1)
        let request = SendLimiter.Request(subject: "shared", rate: rate, count: 5)
        let taken = try await one.take([request])[0]
        #expect(taken.decision.admitted == 1)
        let refused = try await other.take([request])[0]
        #expect(refused.decision.admitted == 0)
        #expect(refused.decision.nextFreeUs > 0 && refused.decision.nextFreeUs <= 1_000_000)
        // Given back, the other replica gets it.
        try await one.giveBack([SendLimiter.Request(subject: "shared", rate: rate, count: 1)])
        #expect(try await other.take([request])[0].decision.admitted == 1)
        // Held tokens are booked in turn: a second hold waits behind the first one's.
        let slow = SendRate(perSecond: 10, burst: 1)
        let firstHold = try await one.take([SendLimiter.Request(subject: "booked", rate: slow, count: 4)])[0].decision
        let secondHold = try await other.take([SendLimiter.Request(subject: "booked", rate: slow, count: 2)])[0].decision
        #expect(firstHold.admitted == 1 && secondHold.admitted == 0)
        #expect(secondHold.heldWaitUs >= firstHold.heldWaitUs + 3 * slow.intervalUs - 50_000)
        #expect(secondHold.nextFreeUs < secondHold.heldWaitUs)
        // Many limits in one round trip, each answered.
        let answers = try await one.take([
            SendLimiter.Request(subject: "a", rate: SendRate(perSecond: 100, burst: 10), count: 30),
            SendLimiter.Request(subject: "b", rate: SendRate(perSecond: 100, burst: 40), count: 30),
        ])
        #expect(answers.map(\.decision.admitted) == [10, 30])
    }

    @Test func warmUpReservationsNeverPassTheCapEvenWhenRacingAndGiveBackIsExact() async throws {
        let redis = try Self.client("it-wu")
        defer { redis.shutdown() }
        let counter = WarmupCounter(redis: redis, prefix: Self.prefix())
        let tenant = UUID()
        let day = WarmupSchedule.dayNumber(Date())
        let request = WarmupCounter.Request(tenantID: tenant, domain: "news.example", day: day, count: 7, cap: 100)
        let got = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<30 { group.addTask { try await counter.reserve([request])[0] } }
            return try await group.reduce(0, +)
        }
        #expect(got == 100)
        #expect(try await counter.counts(tenantID: tenant, domains: ["news.example", "other.example"], day: day) == ["news.example": 100, "other.example": 0])
        var back = request
        back.count = 12
        try await counter.giveBack([back])
        #expect(try await counter.reserve([request])[0] == 7)
        #expect(try await counter.reserve([request])[0] == 5)
        // Tomorrow counts afresh; a give-back never goes below zero.
        var tomorrow = request
        tomorrow.day = day + 1
        #expect(try await counter.reserve([tomorrow])[0] == 7)
        tomorrow.count = 50
        try await counter.giveBack([tomorrow])
        #expect(try await counter.counts(tenantID: tenant, domains: ["news.example"], day: day + 1) == ["news.example": 0])
        #expect(try await redis.command("TTL", counter.key(tenantID: tenant, domain: "news.example", day: day)).int ?? 0 > 86_400)
    }

    /// Transactional mail's reservations are uncapped: they always go, and count, so the bulk
    /// reserved after them gets only what the cap leaves.
    @Test func uncappedWarmUpReservationsPassTheCapAndLeaveBulkTheRest() async throws {
        let redis = try Self.client("it-wu-tx")
        defer { redis.shutdown() }
        let counter = WarmupCounter(redis: redis, prefix: Self.prefix())
        let tenant = UUID(), day = WarmupSchedule.dayNumber(Date())
        let transactional = WarmupCounter.Request(tenantID: tenant, domain: "news.example", day: day, count: 4, cap: WarmupSchedule.uncapped)
        let bulk = WarmupCounter.Request(tenantID: tenant, domain: "news.example", day: day, count: 4, cap: 6)
        #expect(try await counter.reserve([transactional, bulk]) == [4, 2])
        #expect(try await counter.reserve([bulk, transactional]) == [0, 4])
        #expect(try await counter.counts(tenantID: tenant, domains: ["news.example"], day: day) == ["news.example": 10])
    }
}
