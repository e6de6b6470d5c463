import Foundation
import MailfleetCore
import Testing

/// The values of dead-letter handling: the filter a listing or re-drive takes, the progress a
/// large re-drive shows, and the cursor of the API's message pages.
@Suite struct DeadLetterValuesTests {
    let tenant = UUID(uuidString: "6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11")!

    @Test func anEmptyFilterTakesEverythingAndAnyFieldNarrowsIt() {
        #expect(DeadLetterFilter().isEmpty)
        #expect(DeadLetterFilter().description == "all")
        for filter in [
            DeadLetterFilter(tenantID: tenant), DeadLetterFilter(reason: "406"), DeadLetterFilter(since: Date()),
            DeadLetterFilter(until: Date()), DeadLetterFilter(ids: [tenant]),
        ] {
            #expect(!filter.isEmpty)
        }
        let described = DeadLetterFilter(tenantID: tenant, reason: "in\"active", since: Date(timeIntervalSince1970: 0)).description
        #expect(described == #"tenant=6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11, reason~"in\"active", since=1970-01-01T00:00:00.000Z"#)
        #expect(DeadLetterFilter(ids: [tenant, tenant]).description == "ids=2")
    }

    @Test func aRedriveIsBoundedByItsStartWhateverTheFilterSaid() {
        let start = Date(timeIntervalSince1970: 1_000)
        #expect(DeadLetterFilter().failed(before: start).until == start)
        #expect(DeadLetterFilter(until: start.addingTimeInterval(-5)).failed(before: start).until == start.addingTimeInterval(-5))
        #expect(DeadLetterFilter(until: start.addingTimeInterval(60)).failed(before: start).until == start)
        // The other fields stay as they were.
        #expect(DeadLetterFilter(tenantID: tenant).failed(before: start).tenantID == tenant)
    }

    @Test func progressShowsABarOnATerminalAndALinePerBatchOtherwise() {
        var progress = WorkProgress(total: 5000, step: "batch", verb: "re-driven")
        #expect(progress.bar(width: 10) == "[----------] 0/5000 0%")
        progress.advance(by: 1000)
        progress.advance(by: 1000)
        #expect(progress.bar(width: 10) == "[####------] 2000/5000 40%")
        #expect(progress.line == "batch 2: 2000 of 5000 re-driven")
        // More than counted (failed between the count and the start): capped, never past full.
        progress.advance(by: 3500)
        #expect(progress.fraction == 1)
        #expect(progress.bar(width: 4) == "[####] 5500/5000 100%")
        #expect(WorkProgress(total: 0, step: "batch", verb: "re-driven").bar(width: 2) == "[##] 0/0 100%")
        #expect(WorkProgress(total: -3, step: "batch", verb: "re-driven").total == 0)
    }

    @Test func cursorsRoundTripAndAnythingElseIsRefused() {
        let cursor = MessageCursor(createdAtMicroseconds: 1_769_850_000_123_456, id: tenant)
        #expect(cursor.text == "1769850000123456_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11")
        #expect(MessageCursor(text: cursor.text) == cursor)
        #expect(MessageCursor(text: "0_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11")?.createdAtMicroseconds == 0)
        #expect(MessageCursor(text: "999999999999999999_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11") != nil)
        for refused in [
            "", "_", "12", "12_", "_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11", "1234567890123456789_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11",
            "-1_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11", "1_6F1C2D4E-1111-4A43-9A55-0F8C1D0B6A11", "1_6f1c2d4e11114a439a550f8c1d0b6a11",
            "1_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11_2", "١٢_6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11", "1 _6f1c2d4e-1111-4a43-9a55-0f8c1d0b6a11",
        ] {
            #expect(MessageCursor(text: refused) == nil, "\(refused)")
        }
    }
}
