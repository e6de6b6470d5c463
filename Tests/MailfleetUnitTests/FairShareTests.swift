import Foundation
import MailfleetCore
import Testing

@Suite struct FairShareTests {
    /// A partition with `backlog` bulk entries for each tenant, named `<tenant>-<n>`.
    private func backlogged(_ tenants: [String], _ backlog: Int, quantum: Int, weights: [String: Int] = [:]) -> FairShare {
        var share = FairShare(quantum: quantum, weights: weights)
        for tenant in tenants { share.push((0..<backlog).map { "\(tenant)-\($0)" }, tenant: tenant, lane: .bulk) }
        return share
    }

    /// Deliveries per tenant over the first `k`, fetched `batch` at a time.
    private func shares(_ share: inout FairShare, first k: Int, batch: Int) -> [String: Int] {
        var counts: [String: Int] = [:]
        var taken = 0
        while taken < k {
            let got = share.fetch(max: min(batch, k - taken), bulkMinimumPercent: 10)
            if got.isEmpty { break }
            for entry in got { counts[String(entry.split(separator: "-")[0]), default: 0] += 1 }
            taken += got.count
        }
        return counts
    }

    @Test func equalWeightsShareEquallyWhileBothHaveBacklog() {
        var share = backlogged(["a", "b"], 10_000, quantum: 50)
        let counts = shares(&share, first: 2_000, batch: 500)
        #expect(counts == ["a": 1_000, "b": 1_000])
    }

    @Test func weightsThreeToOneGiveThreeQuarters() {
        var share = backlogged(["a", "b"], 10_000, quantum: 50, weights: ["a": 3])
        let counts = shares(&share, first: 2_000, batch: 500)
        #expect(counts == ["a": 1_500, "b": 500])
        // Shares hold in small fetches too: a visit left unfinished is finished next time.
        var small = backlogged(["a", "b"], 10_000, quantum: 50, weights: ["a": 3])
        let smallCounts = shares(&small, first: 2_000, batch: 7)
        #expect(abs(Double(smallCounts["a"] ?? 0) / 2_000 - 0.75) <= 0.1)
    }

    @Test func oneTenantsBacklogDoesNotDelayAnothersFirstMessage() {
        var share = backlogged(["big"], 1_000_000, quantum: 50)
        share.push(["small-0"], tenant: "small", lane: .bulk)
        let first = share.fetch(max: 500, bulkMinimumPercent: 10)
        #expect(first.contains("small-0"))
        #expect(first.prefix(50).allSatisfy { $0.hasPrefix("big-") } && first[50] == "small-0")
    }

    @Test func eachTenantIsFifoAndATenantWhoseListEmptiesLeavesTheRing() {
        var share = FairShare(quantum: 2)
        share.push(["a-0", "a-1", "a-2"], tenant: "a", lane: .bulk)
        share.push(["b-0"], tenant: "b", lane: .bulk)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 0) == ["a-0", "a-1", "b-0", "a-2"])
        #expect(share.bulk.ring.isEmpty && share.bulk.deficits.isEmpty && share.count(.bulk) == 0)
    }

    @Test func aTransactionalLanesFetchTakesTransactionalAloneAndLeavesBulkAsItIs() {
        var share = FairShare(quantum: 50)
        share.push((0..<30).map { "t-\($0)" }, tenant: "t", lane: .transactional)
        share.push((0..<1_000).map { "b-\($0)" }, tenant: "b", lane: .bulk)
        let bulkBefore = share.bulk
        // No bulk reserve: the whole fetch is transactional's, and bulk's ring and turns are untouched.
        #expect(share.fetch(max: 20, bulkMinimumPercent: 10, transactionalOnly: true) == (0..<20).map { "t-\($0)" })
        #expect(share.fetch(max: 20, bulkMinimumPercent: 10, transactionalOnly: true) == (20..<30).map { "t-\($0)" })
        #expect(share.fetch(max: 20, bulkMinimumPercent: 10, transactionalOnly: true).isEmpty)
        #expect(share.bulk == bulkBefore)
    }

    @Test func transactionalGoesFirstButBulkKeepsItsMinimumShare() {
        var share = FairShare(quantum: 50)
        share.push((0..<1_000).map { "t-\($0)" }, tenant: "t", lane: .transactional)
        share.push((0..<1_000).map { "b-\($0)" }, tenant: "b", lane: .bulk)
        let got = share.fetch(max: 100, bulkMinimumPercent: 10)
        #expect(got.prefix(90).allSatisfy { $0.hasPrefix("t-") } && got.suffix(10).allSatisfy { $0.hasPrefix("b-") })
        // With no bulk work transactional takes the whole fetch; with no transactional, bulk does.
        var onlyT = FairShare(quantum: 50)
        onlyT.push((0..<1_000).map { "t-\($0)" }, tenant: "t", lane: .transactional)
        #expect(onlyT.fetch(max: 100, bulkMinimumPercent: 10).count == 100)
        var onlyB = FairShare(quantum: 50)
        onlyB.push((0..<1_000).map { "b-\($0)" }, tenant: "b", lane: .bulk)
        #expect(onlyB.fetch(max: 100, bulkMinimumPercent: 10).count == 100)
        // Bulk short of its reserve leaves the rest to transactional.
        var few = FairShare(quantum: 50)
        few.push((0..<1_000).map { "t-\($0)" }, tenant: "t", lane: .transactional)
        few.push(["b-0", "b-1"], tenant: "b", lane: .bulk)
        let mixed = few.fetch(max: 100, bulkMinimumPercent: 10)
        #expect(mixed.count == 100 && mixed.filter { $0.hasPrefix("b-") }.count == 2)
    }

    @Test func theBulkReserveIsRoundedUpButNeverTheWholeFetch() {
        #expect(FairShare.bulkReserve(max: 500, percent: 10) == 50)
        #expect(FairShare.bulkReserve(max: 8, percent: 10) == 1)
        #expect(FairShare.bulkReserve(max: 1, percent: 10) == 0)
        #expect(FairShare.bulkReserve(max: 10, percent: 100) == 9)
        #expect(FairShare.bulkReserve(max: 500, percent: 0) == 0)
    }

    @Test func oldLayoutEntriesAreServedFirstAndReclaimedWorkGoesToTheFront() {
        var share = FairShare(quantum: 10)
        share.push(["a-1", "a-2"], tenant: "a", lane: .bulk)
        share.bulk.legacy = ["old-0", "old-1"]
        share.push(["a-0"], tenant: "a", lane: .bulk, front: true)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10) == ["old-0", "old-1", "a-0", "a-1", "a-2"])
    }

    @Test func unripeBulkIsPassedOverKeepingItsPlaceInTheShare() {
        var share = FairShare(quantum: 5)
        share.push((0..<3).map { "young-\($0)" }, tenant: "young", lane: .bulk, nowMs: 1_000)
        share.push((0..<3).map { "old-\($0)" }, tenant: "old", lane: .bulk, nowMs: 0)
        share.push(["t-0"], tenant: "t", lane: .transactional, nowMs: 1_000)
        let linger = { (now: Int) in FairShare.Linger(nowMs: now, lingerMs: 200, full: 10) }
        // At 1,100 ms only the old tenant's bulk is ripe; transactional never waits.
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(1_100)) == ["t-0", "old-0", "old-1", "old-2"])
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(1_199)).isEmpty)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(1_200)) == ["young-0", "young-1", "young-2"])
        // A full call's worth is ripe at once.
        share.push((0..<10).map { "full-\($0)" }, tenant: "full", lane: .bulk, nowMs: 2_000)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(2_000)).count == 10)
        // So are entries coming back from a wait or a lease (gathered once already).
        share.push(["back-0"], tenant: "back", lane: .bulk, nowMs: 3_000, back: true)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(3_000)) == ["back-0"])
        // A fetch passes over at most `maxPasses` tenants, however many wait.
        var crowd = FairShare(quantum: 1)
        for i in 0..<200 { crowd.push(["c\(i)-0"], tenant: "c\(i)", lane: .bulk, nowMs: 0) }
        crowd.push(["late-0"], tenant: "late", lane: .bulk, nowMs: -1_000)
        #expect(crowd.fetch(max: 10, bulkMinimumPercent: 10, linger: linger(100)).isEmpty)
        #expect(crowd.bulk.ring.first == "c\(FairShare.maxPasses)")
    }

    @Test func tenThousandTenantsAreEachServedOncePerRound() {
        let tenants = (0..<10_000).map { "t\($0)" }
        var share = backlogged(tenants, 2, quantum: 1)
        var seen: [String: Int] = [:]
        for _ in 0..<20 {
            for entry in share.fetch(max: 500, bulkMinimumPercent: 10) { seen[String(entry.split(separator: "-")[0]), default: 0] += 1 }
        }
        #expect(seen.count == 10_000 && seen.values.allSatisfy { $0 == 1 })
    }

    @Test func aHeldTenantIsParkedOutOfTheRingAndComesBackWhenDueWithASmallTurn() {
        var share = backlogged(["a", "b", "c"], 100, quantum: 5)
        var fetched: [String] = []
        share.hold(tenant: "a", lane: .bulk, untilMs: 1_000, allowance: 2)
        // A is passed over: the others share the fetch, and A is parked, not in the ring.
        let first = share.fetch(max: 20, bulkMinimumPercent: 10, nowMs: 0)
        #expect(first.allSatisfy { !$0.hasPrefix("a-") } && first.count == 20)
        #expect(share.bulk.parked == ["a": 1_000] && !share.bulk.ring.contains("a"))
        let early = share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 999)
        #expect(early.count == 10 && early.allSatisfy { !$0.hasPrefix("a-") })
        // Due: back at the end of the ring, its first turn what the limit last admitted, then doubling.
        let back = share.fetch(max: 12, bulkMinimumPercent: 10, nowMs: 1_000)
        #expect(back.filter { $0.hasPrefix("a-") } == ["a-0", "a-1"])
        #expect(share.bulk.parked.isEmpty && share.bulk.held.isEmpty && share.bulk.allowances == ["a": 4])
        let next = share.fetch(max: 14, bulkMinimumPercent: 10, nowMs: 1_001)
        #expect(next.filter { $0.hasPrefix("a-") } == ["a-2", "a-3", "a-4", "a-5"])
        // Once the allowance reaches a whole turn it is forgotten.
        let whole = share.fetch(max: 30, bulkMinimumPercent: 10, nowMs: 1_002)
        #expect(share.bulk.allowances.isEmpty)
        fetched = first + early + back + next + whole
        // Nothing lost: everything is fetched in the end, each tenant's entries in order.
        while true {
            let got = share.fetch(max: 50, bulkMinimumPercent: 10, nowMs: 2_000)
            if got.isEmpty { break }
            fetched += got
        }
        #expect(fetched.count == 300 && Set(fetched).count == 300)
        for tenant in ["a", "b", "c"] {
            #expect(fetched.filter { $0.hasPrefix("\(tenant)-") } == (0..<100).map { "\(tenant)-\($0)" })
        }
    }

    @Test func aHeldTenantWhoseListIsEmptyIsParkedWhenItsMailComesBack() {
        var share = FairShare(quantum: 5)
        share.hold(tenant: "a", lane: .bulk, untilMs: 500, allowance: 1)
        share.push(["a-0", "a-1"], tenant: "a", lane: .bulk, nowMs: 100)
        share.push(["b-0"], tenant: "b", lane: .bulk, nowMs: 100)
        #expect(share.bulk.ring == ["b"] && share.bulk.parked == ["a": 500])
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 200) == ["b-0"])
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 500) == ["a-0"])
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 501) == ["a-1"])
        // A hold renewed while parked moves its due time.
        share.hold(tenant: "c", lane: .transactional, untilMs: 50, allowance: 1)
        share.push(["c-0"], tenant: "c", lane: .transactional, nowMs: 0)
        share.hold(tenant: "c", lane: .transactional, untilMs: 900, allowance: 1)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 600).isEmpty)
        #expect(share.fetch(max: 10, bulkMinimumPercent: 10, nowMs: 900) == ["c-0"])
    }

    @Test func theHeaviestWeightBoundsEveryTurnWhileSharesFollowTheWeights() {
        #expect(FairShare.unit(quantum: 50, maxWeight: 3, maxTurn: 1_000) == 50)
        #expect(FairShare.unit(quantum: 50, maxWeight: 1_000, maxTurn: 1_000) == 1)
        #expect(FairShare.unit(quantum: 50, maxWeight: 40, maxTurn: 1_000) == 25)
        // 1:1000: the light tenant is served within the first few fetches, not after 50,000 entries.
        var share = backlogged(["heavy"], 100_000, quantum: 50, weights: ["heavy": 1_000])
        share.push((0..<100).map { "light-\($0)" }, tenant: "light", lane: .bulk)
        var fetches = 0
        var served = false
        while !served && fetches < 10 {
            served = share.fetch(max: 500, bulkMinimumPercent: 10).contains { $0.hasPrefix("light-") }
            fetches += 1
        }
        #expect(served && fetches <= 3)
        // Shares over the long run are still 1000:1.
        var shares = backlogged(["heavy"], 300_000, quantum: 50, weights: ["heavy": 1_000])
        shares.push((0..<1_000).map { "light-\($0)" }, tenant: "light", lane: .bulk)
        let counts = self.shares(&shares, first: 200_200, batch: 500)
        #expect(counts == ["heavy": 200_000, "light": 200])
    }

    @Test func tenantHoldsTakeTheSoonestTokenAndShareWhatWasAdmittedOverPartitions() {
        let a = UUID(), b = UUID()
        let holds = FairShare.tenantHolds(
            [
                .init(tenantID: a, lane: .bulk, nextFreeUs: 200_500, intervalUs: 200_000),
                .init(tenantID: a, lane: .bulk, nextFreeUs: 100_000, intervalUs: 100_000),
                .init(tenantID: b, lane: .transactional, nextFreeUs: 1_000_000, intervalUs: 0),
            ],
            admitted: [a: [.bulk: 40, .transactional: 3]], partitions: 8)
        #expect(Set(holds.map { "\($0.tenantID == a ? "a" : "b")\($0.lane.code) \($0.waitMs) \($0.stepMs) \($0.allowance)" }) == ["ab 100 100 5", "bt 1000 0 1"])
    }
}
