import Foundation
import MailfleetCore
import Testing

@Suite struct OldestReadyTests {
    @Test func aVersion7IdGivesBackTheMillisecondItWasMadeAt() {
        let made = Date(timeIntervalSince1970: 1_700_000_000.123)
        let date = UUID.timeOrdered(at: made).timeOrderedDate
        #expect(date.map { abs($0.timeIntervalSince(made)) < 0.0005 } == true)
        #expect(UUID(uuidString: "8d3c3f1e-6a2b-4c1d-9e0f-123456789abc")!.timeOrderedDate == nil)
    }

    @Test func eachLaneKeepsItsOldestHead() {
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        var oldest = OldestReady()
        oldest.observe(id: .timeOrdered(at: now.addingTimeInterval(-5)), lane: .transactional)
        oldest.observe(id: .timeOrdered(at: now.addingTimeInterval(-30)), lane: .transactional)
        oldest.observe(id: .timeOrdered(at: now.addingTimeInterval(-12)), lane: .transactional)
        oldest.observe(id: .timeOrdered(at: now.addingTimeInterval(-600)), lane: .bulk)
        #expect(abs(oldest.ageSeconds(.transactional, at: now) - 30) < 0.002)
        #expect(abs(oldest.ageSeconds(.bulk, at: now) - 600) < 0.002)
    }

    @Test func anEmptyLaneIsZeroAndAFutureIdIsNotNegative() {
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        var oldest = OldestReady()
        #expect(oldest.ageSeconds(.transactional, at: now) == 0)
        oldest.observe(id: .timeOrdered(at: now.addingTimeInterval(3)), lane: .bulk)
        #expect(oldest.ageSeconds(.bulk, at: now) == 0)
        #expect(oldest.ageSeconds(.transactional, at: now) == 0)
    }

    @Test func idsWithoutATimeAreNotCounted() {
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        var oldest = OldestReady()
        oldest.observe(id: UUID(uuidString: "8d3c3f1e-6a2b-4c1d-9e0f-123456789abc")!, lane: .transactional)
        #expect(oldest.transactional == nil)
        #expect(oldest.ageSeconds(.transactional, at: now) == 0)
    }
}
