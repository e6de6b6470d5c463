import MailfleetCore
import Testing

/// The scheduler's view of its leader lease: it leads only while its last renewal must still
/// hold, each change of role is reported once, and an unanswered renewal ends leadership when
/// the lease would have run out, never later.
@Suite struct LeadershipTests {
    @Test func leadsFromAGrantedLeaseUntilItRunsOutCountedFromTheRequest() {
        var leadership = Leadership(leaseMs: 5000)
        #expect(!leadership.isLeading(atMs: 0))
        // Sent at 1,000, answered at 1,200: the lease holds until 6,000, not 6,200.
        let granted = leadership.acquired(true, sentAtMs: 1000, nowMs: 1200)
        #expect(granted == .became)
        #expect(leadership.isLeading(atMs: 5999))
        #expect(!leadership.isLeading(atMs: 6000))
        // A renewal moves the end; the role did not change, so nothing is reported.
        let renewed = leadership.acquired(true, sentAtMs: 1100, nowMs: 1150)
        #expect(renewed == nil)
        #expect(leadership.validUntilMs == 6100)
    }

    @Test func aRefusedRenewalEndsLeadershipAtOnce() {
        var leadership = Leadership(leaseMs: 5000)
        _ = leadership.acquired(true, sentAtMs: 0, nowMs: 10)
        let refused = leadership.acquired(false, sentAtMs: 100, nowMs: 110)
        #expect(refused == .lost)
        #expect(!leadership.isLeading(atMs: 120))
        let refusedAgain = leadership.acquired(false, sentAtMs: 200, nowMs: 210)
        #expect(refusedAgain == nil)
    }

    @Test func unansweredRenewalsKeepTheLeaseOnlyUntilItRunsOut() {
        var leadership = Leadership(leaseMs: 5000)
        _ = leadership.acquired(true, sentAtMs: 0, nowMs: 10)
        // Redis stops answering: still the leader while the last renewal holds (nobody else can
        // have the lease yet), and no longer from the moment it would have run out.
        let early = leadership.acquireFailed(nowMs: 4000)
        #expect(early == nil)
        #expect(leadership.isLeading(atMs: 4000))
        let atTheEnd = leadership.acquireFailed(nowMs: 5000)
        #expect(atTheEnd == .lost)
        #expect(!leadership.isLeading(atMs: 5000))
        let later = leadership.acquireFailed(nowMs: 9000)
        #expect(later == nil)
        #expect(leadership.validUntilMs == nil)
    }

    @Test func aPauseLongerThanTheLeaseIsNoticedBeforeTheNextStep() {
        var leadership = Leadership(leaseMs: 2000)
        _ = leadership.acquired(true, sentAtMs: 0, nowMs: 5)
        // A step that ran (or a process that was paused) past the lease: the check between
        // steps reports the loss, once, and a later answer that grants it again is a new term.
        let checks = [leadership.check(nowMs: 1999), leadership.check(nowMs: 2500), leadership.check(nowMs: 2600)]
        #expect(checks == [nil, .lost, nil])
        let regained = leadership.acquired(true, sentAtMs: 3000, nowMs: 3001)
        #expect(regained == .became)
    }

    @Test func anAnswerArrivingAfterItsLeaseRanOutGrantsNothing() {
        var leadership = Leadership(leaseMs: 1000)
        // Redis granted it, but the answer took longer than the lease: a standby may hold it now.
        let late = leadership.acquired(true, sentAtMs: 0, nowMs: 1500)
        #expect(late == nil)
        #expect(!leadership.isLeading(atMs: 1500))
    }
}
