import Foundation
import MailfleetCore
import Testing

@Suite struct SendRateTests {
    @Test func aQuietBucketGrantsItsBurstThenOneTokenPerInterval() {
        let rate = SendRate(perSecond: 200, burst: 50)
        #expect(rate.intervalUs == 5_000)
        let now = 1_764_000_000_000_000
        let first = rate.take(80, nowUs: now, tatUs: nil)
        #expect(first.admitted == 50)
        #expect(first.tatUs == now + 50 * 5_000)
        // The next token is one interval away.
        #expect(first.nextFreeUs == 5_000)
        let none = rate.take(10, nowUs: now + 4_999, tatUs: first.tatUs)
        #expect(none.admitted == 0 && none.nextFreeUs == 1)
        let one = rate.take(10, nowUs: now + 5_000, tatUs: first.tatUs)
        #expect(one.admitted == 1)
        // A second later exactly 200 more have been admitted in all, whatever the asking.
        var tat = one.tatUs
        var admitted = 0
        var t = now + 5_000
        while t < now + 1_005_000 {
            let decision = rate.take(3, nowUs: t, tatUs: tat)
            admitted += decision.admitted
            tat = decision.tatUs
            t += 1_700
        }
        admitted += rate.take(3, nowUs: now + 1_005_000, tatUs: tat).admitted
        #expect(admitted == 200)
    }

    @Test func askingForAllAtOnceAdmitsWhatIsFreeAndSaysWhenTheNextIs() {
        let rate = SendRate(perSecond: 4, burst: 2)
        let decision = rate.take(10, nowUs: 0, tatUs: 1_000_000)
        // TAT a second ahead with a tolerance of half a second: nothing until it is back within.
        #expect(decision.admitted == 0)
        #expect(decision.nextFreeUs == 1_000_000 + 250_000 - 500_000)
        #expect(rate.take(0, nowUs: 0, tatUs: nil).admitted == 0)
    }

    @Test func givingBackMovesTheArrivalTimeBackButNeverBeforeNow() {
        let rate = SendRate(perSecond: 100)
        #expect(rate.giveBack(3, nowUs: 1_000, tatUs: 100_000) == 70_000)
        #expect(rate.giveBack(50, nowUs: 1_000, tatUs: 100_000) == 1_000)
        #expect(rate.giveBack(5, nowUs: 1_000, tatUs: nil) == 1_000)
        // Taking n then giving n back leaves the bucket as it was.
        let taken = rate.take(7, nowUs: 10_000, tatUs: 40_000)
        #expect(rate.giveBack(taken.admitted, nowUs: 10_000, tatUs: taken.tatUs) == 40_000)
    }

    @Test func heldTokensAreBookedAfterEarlierHoldsSoTheyWakeInTurn() {
        let rate = SendRate(perSecond: 100, burst: 1)
        // Ten asked, one admitted: nine booked after the TAT, the first due one interval on.
        let first = rate.take(10, nowUs: 0, tatUs: nil)
        #expect(first.admitted == 1 && first.nextFreeUs == 10_000 && first.heldWaitUs == 10_000)
        #expect(first.bookedUs == 10_000 + 9 * 10_000)
        // Another worker's five wait behind those nine, though the next token is as near.
        let second = rate.take(5, nowUs: 1_000, tatUs: first.tatUs, bookedUs: first.bookedUs)
        #expect(second.admitted == 0 && second.nextFreeUs == 9_000)
        #expect(second.heldWaitUs == 100_000 - 1_000)
        #expect(second.bookedUs == 150_000)
        // A booking that has passed counts for nothing.
        let later = rate.take(3, nowUs: 200_000, tatUs: second.tatUs, bookedUs: second.bookedUs)
        #expect(later.admitted == 1 && later.bookedUs == 210_000 + 2 * 10_000 && later.heldWaitUs == 10_000)
        #expect(rate.take(1, nowUs: 300_000, tatUs: nil, bookedUs: 250_000).bookedUs == 0)
    }

    @Test func theDefaultBurstIsAQuarterSecond() {
        #expect(SendRate(perSecond: 1000).burst == 250)
        #expect(SendRate(perSecond: 3).burst == 1)
        #expect(SendRate(perSecond: 0).perSecond == 1)
    }
}
