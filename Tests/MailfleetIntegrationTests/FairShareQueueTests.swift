import Foundation
import MailfleetCore
import MailfleetRedis
import MailfleetStore
import Testing

/// The queue's fair share in a real Redis: the fetch script against its pure twin
/// (`FairShare`), shares between tenants, and every other reader of entries following tenants.
@Suite(.serialized) struct FairShareQueueTests {
    private func queue(_ redis: RedisClient, partitions: Int = 1, quantum: Int = 50, lingerMs: Int = 0, full: Int = 1000, maxTurn: Int = 1000) -> MessageQueue {
        MessageQueue(
            redis: redis, partitioning: Partitioning(count: partitions), prefix: "it-fair-\(UUID().uuidString.prefix(6))",
            fairness: .init(quantum: quantum, bulkMinimumPercent: 10, bulkLingerMs: lingerMs, bulkFull: full, maxTurn: maxTurn))
    }

    @Test func theFetchScriptTakesWhatItsPureTwinTakesOnRandomInputs() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-twin")
        defer { redis.shutdown() }
        var rng = SystemRandomNumberGenerator()
        for round in 0..<8 {
            let quantum = Int.random(in: 1...6, using: &rng)
            // Half the rounds linger, so passing over unripe bulk is checked too.
            let lingerMs = round % 2 == 0 ? 0 : Int.random(in: 20...200, using: &rng)
            let linger = { (ms: Int) in FairShare.Linger(nowMs: ms, lingerMs: lingerMs, full: 25) }
            // Some rounds bound turns below the heaviest weight's, so the unit shrinks.
            let maxTurn = round % 3 == 2 ? Int.random(in: 2...12, using: &rng) : 1000
            let queue = queue(redis, quantum: quantum, lingerMs: lingerMs, full: 25, maxTurn: maxTurn)
            var clockMs = 1_800_000_000_000
            func date(_ ms: Int) -> Date { Date(timeIntervalSince1970: Double(ms) / 1000) }
            let tenants = (0..<Int.random(in: 1...6, using: &rng)).map { _ in UUID() }
            var weights: [UUID: Int] = [:]
            for tenant in tenants where Bool.random(using: &rng) { weights[tenant] = Int.random(in: 2...4, using: &rng) }
            try await queue.publishWeights(weights)
            var twin = FairShare(
                quantum: quantum, weights: Dictionary(uniqueKeysWithValues: weights.map { ($0.key.lowercasedString, $0.value) }), maxTurn: maxTurn)
            let percent = queue.fairness.bulkMinimumPercent
            for step in 0..<80 {
                clockMs += Int.random(in: 0...60, using: &rng)
                if Int.random(in: 0..<6, using: &rng) == 0 {
                    // A send limit holds a tenant in a lane for a while, with a small next turn.
                    let hold = FairShare.TenantHold(
                        tenantID: tenants.randomElement(using: &rng)!, lane: Bool.random(using: &rng) ? .bulk : .transactional,
                        waitMs: Int.random(in: 0...300, using: &rng), allowance: Int.random(in: 1...5, using: &rng))
                    try await queue.hold([hold], first: 0, now: date(clockMs))
                    twin.hold(tenant: hold.tenantID.lowercasedString, lane: hold.lane, untilMs: clockMs + hold.waitMs, allowance: hold.allowance)
                } else if Int.random(in: 0..<3, using: &rng) > 0 {
                    // A producer's batch: runs of one tenant and lane, in order.
                    var items: [MessageQueue.Item] = []
                    for _ in 0..<Int.random(in: 1...4, using: &rng) {
                        let tenant = tenants.randomElement(using: &rng)!
                        let lane: Priority = Int.random(in: 0..<4, using: &rng) == 0 ? .transactional : .bulk
                        for _ in 0..<Int.random(in: 1...15, using: &rng) { items.append(.init(id: UUID(), priority: lane, tenantID: tenant)) }
                    }
                    try await queue.enqueue(items, now: date(clockMs))
                    for item in items {
                        twin.push(
                            [MessageQueue.entry(id: item.id, priority: item.priority)], tenant: item.tenantID.lowercasedString, lane: item.priority,
                            nowMs: clockMs)
                    }
                } else {
                    let max = Int.random(in: 1...40, using: &rng)
                    // One fetch in five is a transactional lane's.
                    let only = Int.random(in: 0..<5, using: &rng) == 0
                    let fetched = try await queue.fetch(partition: 0, max: max, leaseSeconds: 60, now: date(clockMs), transactionalOnly: only)
                    let expected = twin.fetch(max: max, bulkMinimumPercent: percent, linger: linger(clockMs), transactionalOnly: only)
                    #expect(fetched.map { MessageQueue.entry(id: $0.id, priority: $0.priority) } == expected, "round \(round), step \(step)")
                }
            }
            let depth = try await queue.depth()
            #expect(depth.readyTransactional == twin.count(.transactional) && depth.readyBulk == twin.count(.bulk))
            // Drained, the queue and its twin end together and leave no ring behind.
            // Later than any linger, so everything is ripe.
            clockMs += 1_000
            while true {
                let fetched = try await queue.fetch(partition: 0, max: 37, leaseSeconds: 60, now: date(clockMs))
                #expect(
                    fetched.map { MessageQueue.entry(id: $0.id, priority: $0.priority) }
                        == twin.fetch(max: 37, bulkMinimumPercent: percent, linger: linger(clockMs)))
                if fetched.isEmpty { break }
            }
            let k = queue.keys(0)
            let leftovers = try await redis.pipeline([[
                "EXISTS", k.ring(.bulk), k.ring(.transactional), k.backlog(.bulk), k.backlog(.transactional), k.tag + "first:b", k.tag + "last:b",
                k.tag + "held:b", k.tag + "held:t", k.tag + "parked:b", k.tag + "parked:t",
            ]])
            #expect(leftovers.first?.int == 0)
            #expect(try await queue.depth().readyBulk == 0)
        }
    }

    /// Shares of the first `k` fetched entries, fetched as a worker does: `batch` at a time,
    /// one partition after another.
    private func shares(_ queue: MessageQueue, of tenants: [UUID: UUID], first k: Int, batch: Int) async throws -> [UUID: Int] {
        var counts: [UUID: Int] = [:]
        var taken = 0
        var p = 0
        var empty = 0
        while taken < k, empty < queue.partitioning.count {
            let fetched = try await queue.fetch(partition: p, max: min(batch, k - taken), leaseSeconds: 60)
            p = (p + 1) % queue.partitioning.count
            empty = fetched.isEmpty ? empty + 1 : 0
            for entry in fetched { counts[tenants[entry.id]!, default: 0] += 1 }
            taken += fetched.count
        }
        return counts
    }

    @Test func twoBulkTenantsGetTheirWeightedSharesWhileBothHaveBacklog() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-shares")
        defer { redis.shutdown() }
        for (weightA, weightB) in [(1, 1), (3, 1)] {
            let queue = queue(redis, partitions: 4)
            let a = UUID(), b = UUID()
            try await queue.publishWeights([a: weightA, b: weightB].filter { $0.value != 1 })
            // A's backlog was queued first, all of it; B's arrives behind it.
            var owner: [UUID: UUID] = [:]
            for tenant in [a, b] {
                let items = (0..<6_000).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: tenant) }
                for item in items { owner[item.id] = tenant }
                for chunk in stride(from: 0, to: items.count, by: 1_000) { try await queue.enqueue(Array(items[chunk..<chunk + 1_000])) }
            }
            let k = 4_000
            let counts = try await shares(queue, of: owner, first: k, batch: 500)
            let shareA = Double(counts[a] ?? 0) / Double(k)
            let expected = Double(weightA) / Double(weightA + weightB)
            #expect(abs(shareA - expected) <= 0.1, "weights \(weightA):\(weightB): A got \(shareA)")
        }
    }

    @Test func atWeightsOfAThousandToOneTheLightTenantIsServedWithinTheFirstFetches() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-heavy")
        defer { redis.shutdown() }
        let queue = queue(redis)
        let heavy = UUID(), light = UUID()
        try await queue.publishWeights([heavy: 1_000])
        // The heavy tenant's backlog first: a turn of 50 × 1,000 entries would have kept the
        // light one waiting for 100 fetches of 500.
        var owner: [UUID: UUID] = [:]
        for _ in 0..<4 {
            let items = (0..<1_000).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: heavy) }
            for item in items { owner[item.id] = heavy }
            try await queue.enqueue(items)
        }
        let lightItems = (0..<10).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: light) }
        for item in lightItems { owner[item.id] = light }
        try await queue.enqueue(lightItems)
        var fetches = 0
        var served = false
        while !served && fetches < 8 {
            served = try await queue.fetch(partition: 0, max: 500, leaseSeconds: 60).contains { owner[$0.id] == light }
            fetches += 1
        }
        #expect(served && fetches <= 3, "the light tenant waited \(fetches) fetches")
    }

    @Test func promotionReclaimDepthAndLeadersFollowTheTenant() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-moves")
        defer { redis.shutdown() }
        let queue = queue(redis, quantum: 2)
        let a = UUID(), b = UUID(), now = Date()
        let aIDs = (0..<6).map { _ in UUID() }, bIDs = (0..<2).map { _ in UUID() }
        try await queue.enqueue(
            aIDs.enumerated().map { .init(id: $1, priority: .bulk, tenantID: a, dueAt: now.addingTimeInterval(10 + Double($0) / 100)) }
                + bIDs.enumerated().map { .init(id: $1, priority: .bulk, tenantID: b, dueAt: now.addingTimeInterval(10.5 + Double($0) / 100)) }, now: now)
        #expect(try await queue.depth().delayed == 8)
        #expect(try await queue.promoteDue(partition: 0, now: now.addingTimeInterval(11)) == 8)
        var depth = try await queue.depth()
        #expect(depth.readyBulk == 8 && depth.delayed == 0)
        let leaders = try await queue.backlogLeaders(.bulk, limit: 1)
        #expect(leaders.count == 1 && leaders[0].tenantID == a && leaders[0].ready == 6)

        // Promoted into their tenants' lists in due order, so the ring alternates (quantum 2).
        let first = try await queue.fetch(partition: 0, max: 4, leaseSeconds: 30, now: now)
        #expect(first.map { aIDs.contains($0.id) ? "a" : "b" } == ["a", "a", "b", "b"])
        #expect(first.map(\.id) == Array(aIDs.prefix(2)) + bIDs)
        depth = try await queue.depth()
        #expect(depth.readyBulk == 4 && depth.leased == 4)

        // Reclaimed work goes back to the front of its own tenant's list; B, whose list had
        // emptied, joins the ring again.
        #expect(try await queue.reclaimExpired(partition: 0, now: now.addingTimeInterval(31)) == 4)
        depth = try await queue.depth()
        #expect(depth.readyBulk == 8 && depth.leased == 0)
        let all = try await queue.fetch(partition: 0, max: 100, leaseSeconds: 30, now: now)
        #expect(Set(all.map(\.id)) == Set(aIDs + bIDs))
        #expect(all.filter { aIDs.contains($0.id) }.map(\.id).suffix(4) == Array(aIDs.suffix(4)))

        // Acknowledged entries forget their tenants: the tenant table empties with the queue.
        try await queue.acknowledge(all)
        #expect(try await redis.command("HLEN", queue.keys(0).tenants).int == 0)
        #expect(try await queue.depth() == QueueDepth())
    }

    @Test func bulkLingersUntilQuietOrFullWhileTransactionalNeverWaits() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-linger")
        defer { redis.shutdown() }
        let queue = queue(redis, lingerMs: 200, full: 100)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let tenant = UUID(), busy = UUID()
        try await queue.enqueue((0..<10).map { _ in .init(id: UUID(), priority: .bulk, tenantID: tenant) }, now: t0)
        try await queue.enqueue([.init(id: UUID(), priority: .transactional, tenantID: tenant)], now: t0)
        // A full call's worth is ripe at once.
        try await queue.enqueue((0..<100).map { _ in .init(id: UUID(), priority: .bulk, tenantID: busy) }, now: t0)
        let first = try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(0.05))
        #expect(first.filter { $0.priority == .transactional }.count == 1 && first.filter { $0.priority == .bulk }.count == 100)
        // More keeps arriving: the wait runs from the newest arrival.
        try await queue.enqueue((0..<10).map { _ in .init(id: UUID(), priority: .bulk, tenantID: tenant) }, now: t0.addingTimeInterval(0.15))
        #expect(try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(0.3)).isEmpty)
        let ripe = try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(0.36))
        #expect(ripe.count == 20)
        // A stream that never goes quiet is still sent four lingers after its first arrival.
        for step in 0..<9 {
            try await queue.enqueue([.init(id: UUID(), priority: .bulk, tenantID: tenant)], now: t0.addingTimeInterval(1 + Double(step) / 10))
        }
        #expect(try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(1.78)).isEmpty)
        let stream = try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(1.81))
        #expect(stream.count == 9)
        // Entries coming back from a wait (a send limit, a retry) were gathered once: they do
        // not linger again, or every hold would add a linger.
        try await queue.reschedule(stream.prefix(2).map { ($0.id, $0.priority, t0.addingTimeInterval(2)) })
        #expect(try await queue.promoteDue(partition: 0, now: t0.addingTimeInterval(2)) == 2)
        #expect(try await queue.fetch(partition: 0, max: 500, leaseSeconds: 30, now: t0.addingTimeInterval(2.001)).count == 2)
    }

    @Test func entriesOfTheOldLayoutAreStillSent() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-upgrade")
        defer { redis.shutdown() }
        let queue = queue(redis)
        let k = queue.keys(0)
        let now = Date()
        // What the code before fair share left: ready lists per lane, and leased and delayed
        // entries with no tenant recorded.
        let oldReady = (0..<3).map { _ in UUID() }, oldLeased = UUID(), oldDelayed = UUID()
        _ = try await redis.pipeline([
            ["RPUSH", k.readyBulk] + oldReady.map { MessageQueue.entry(id: $0, priority: .bulk) },
            ["ZADD", k.leased, String(Int64(now.timeIntervalSince1970 * 1000) - 1), MessageQueue.entry(id: oldLeased, priority: .transactional)],
            ["ZADD", k.delayed, String(Int64(now.timeIntervalSince1970 * 1000) - 1), MessageQueue.entry(id: oldDelayed, priority: .bulk)],
        ])
        let fresh = UUID()
        try await queue.enqueue([.init(id: fresh, priority: .bulk, tenantID: UUID())])
        var depth = try await queue.depth()
        #expect(depth.readyBulk == 4 && depth.leased == 1 && depth.delayed == 1)
        #expect(try await queue.reclaimExpired(partition: 0, now: now) == 1)
        #expect(try await queue.promoteDue(partition: 0, now: now) == 1)
        depth = try await queue.depth()
        #expect(depth.readyBulk == 5 && depth.readyTransactional == 1)
        let fetched = try await queue.fetch(partition: 0, max: 10, leaseSeconds: 30, now: now)
        // The old lists first, in their order; then the tenants' lists.
        #expect(fetched.map(\.id) == [oldLeased] + oldReady + [oldDelayed, fresh])
        #expect(try await queue.depth().readyBulk == 0)
    }

    @Test func publishedWeightsReplaceTheTableOfEveryPartition() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-weights")
        defer { redis.shutdown() }
        let queue = queue(redis, partitions: 3)
        let a = UUID(), b = UUID()
        try await queue.publishWeights([a: 3, b: 2])
        try await queue.publishWeights([a: 5])
        for p in 0..<3 { #expect(try await queue.publishedWeights(partition: p) == [a: 5]) }
        try await queue.publishWeights([:])
        #expect(try await queue.publishedWeights(partition: 1).isEmpty)
    }

    @Test func aTransactionalFetchTakesTransactionalFromEveryPartitionInOneCallAndLeavesBulk() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-tx")
        defer { redis.shutdown() }
        let queue = queue(redis, partitions: 4)
        let tenant = UUID()
        let bulk = (0..<200).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: tenant) }
        let transactional = (0..<40).map { _ in MessageQueue.Item(id: UUID(), priority: .transactional, tenantID: UUID()) }
        try await queue.enqueue(bulk + transactional)
        var perPartition: [Int: Int] = [:]
        for item in transactional { perPartition[queue.partitioning.partition(of: item.id), default: 0] += 1 }
        // At most ceil(12 / 4) = 3 from each partition, transactional only.
        let first = try await queue.fetchTransactional(max: 12, leaseSeconds: 60)
        #expect(first.allSatisfy { $0.priority == .transactional })
        #expect(first.count == perPartition.values.reduce(0) { $0 + min($1, 3) })
        var fetched = Set(first.map(\.id))
        while true {
            let more = try await queue.fetchTransactional(max: 12, leaseSeconds: 60)
            if more.isEmpty { break }
            #expect(more.allSatisfy { $0.priority == .transactional })
            fetched.formUnion(more.map(\.id))
        }
        #expect(fetched == Set(transactional.map(\.id)))
        let depth = try await queue.depth()
        #expect(depth.readyBulk == 200 && depth.readyTransactional == 0 && depth.leased == 40)
    }

    @Test func aHeldTenantIsPassedOverWhileOthersAreFetchedAndComesBackWhenDue() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-hold")
        defer { redis.shutdown() }
        let queue = queue(redis, partitions: 2, quantum: 5)
        let a = UUID(), b = UUID()
        let aItems = (0..<40).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: a) }
        let bItems = (0..<40).map { _ in MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: b) }
        try await queue.enqueue(aItems)
        try await queue.enqueue(bItems)
        // Held on Redis's clock for a minute, every partition: only B's mail comes out.
        try await queue.hold([FairShare.TenantHold(tenantID: a, lane: .bulk, waitMs: 60_000, allowance: 1)])
        var fetched: [UUID] = []
        for _ in 0..<6 {
            for p in 0..<2 { fetched += try await queue.fetch(partition: p, max: 10, leaseSeconds: 60).map(\.id) }
        }
        #expect(Set(fetched) == Set(bItems.map(\.id)))
        var depth = try await queue.depth()
        #expect(depth.readyBulk == 40 && depth.leased == 40)
        for p in 0..<2 { #expect(try await redis.command("ZCARD", queue.keys(p).tag + "parked:b").int == 1) }
        // New mail of A while held waits too.
        let late = MessageQueue.Item(id: UUID(), priority: .bulk, tenantID: a)
        try await queue.enqueue([late])
        #expect(try await queue.fetch(partition: queue.partitioning.partition(of: late.id), max: 10, leaseSeconds: 60).isEmpty)
        // The hold ends (shortened to now): A is back, its first turn in each partition what the
        // limit admitted (even alone in the ring), then growing; nothing lost.
        try await queue.hold([FairShare.TenantHold(tenantID: a, lane: .bulk, waitMs: 0, allowance: 1)])
        var back: [UUID] = []
        var firstTurn: [Int] = []
        for _ in 0..<20 {
            for p in 0..<2 {
                let got = try await queue.fetch(partition: p, max: 50, leaseSeconds: 60).map(\.id)
                if firstTurn.count < 2 { firstTurn.append(got.count) }
                back += got
            }
        }
        #expect(firstTurn == [1, 1])
        #expect(Set(back) == Set(aItems.map(\.id) + [late.id]) && back.count == 41)
        depth = try await queue.depth()
        #expect(depth.readyBulk == 0 && depth.leased == 81)
        for p in 0..<2 {
            let k = queue.keys(p)
            #expect(try await redis.command("EXISTS", k.tag + "parked:b", k.tag + "allow:b", k.ring(.bulk)).int == 0)
        }
    }

    @Test func promotedEntriesGoToTheFrontOfTheirTenantsListInDueOrder() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-ahead")
        defer { redis.shutdown() }
        let queue = queue(redis)
        let a = UUID(), now = Date()
        let fresh = (0..<3).map { _ in UUID() }, waited = (0..<2).map { _ in UUID() }
        try await queue.enqueue(waited.enumerated().map { .init(id: $1, priority: .bulk, tenantID: a, dueAt: now.addingTimeInterval(5 + Double($0))) }, now: now)
        try await queue.enqueue(fresh.map { .init(id: $0, priority: .bulk, tenantID: a) }, now: now)
        #expect(try await queue.promoteDue(partition: 0, now: now.addingTimeInterval(10)) == 2)
        let fetched = try await queue.fetch(partition: 0, max: 10, leaseSeconds: 30, now: now.addingTimeInterval(10))
        #expect(fetched.map(\.id) == waited + fresh)
    }

    @Test func theLingerRunsOnRedisClockWhateverTheHostsClocksSay() async throws {
        let redis = RedisClient(url: try TestEnvironment.redisURL(), connections: 1, name: "it-fair-clock")
        defer { redis.shutdown() }
        let queue = queue(redis, lingerMs: 100, full: 1000)
        let tenant = UUID()
        // Neither the producer nor the fetcher passes its time: the scripts read Redis's, so a
        // host whose clock is off (an hour fast or slow) has nothing to put into the linger.
        try await queue.enqueue((0..<5).map { _ in .init(id: UUID(), priority: .bulk, tenantID: tenant) })
        #expect(try await queue.fetch(partition: 0, max: 10, leaseSeconds: 30).isEmpty)
        let k = queue.keys(0)
        let arrived = try #require(try await redis.command("HGET", k.tag + "last:b", tenant.lowercasedString).string.flatMap(Int64.init))
        let redisNow = try await redis.command("TIME").array ?? []
        let redisMs = (Int64(redisNow.first?.string ?? "") ?? 0) * 1000 + (Int64(redisNow.last?.string ?? "") ?? 0) / 1000
        #expect(abs(redisMs - arrived) < 60_000)
        // Four lingers after arrival on Redis's clock, however far from it the hosts' clocks are.
        try await Task.sleep(for: .milliseconds(450))
        #expect(try await queue.fetch(partition: 0, max: 10, leaseSeconds: 30).count == 5)
    }
}
