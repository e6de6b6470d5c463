import Foundation
import MailfleetCore
import Testing

/// RFC 3339 text the API takes in `send_at` and query filters.
@Suite struct ISO8601Tests {
    @Test func parsesTheUsualForms() {
        #expect(ISO8601.parse("2026-01-31T09:00:00Z") == Date(timeIntervalSince1970: 1_769_850_000))
        #expect(ISO8601.parse("2026-01-31T11:00:00.500+02:00") == Date(timeIntervalSince1970: 1_769_850_000.5))
    }

    /// Valid RFC 3339 (any hh:mm offset, any four-digit year) that Foundation's format style refuses:
    /// a schema-valid request was answered 422 for it.
    @Test func parsesOffsetsAndYearsTheFormatStyleRefuses() {
        #expect(ISO8601.parse("2033-11-13T04:50:21+22:27") == ISO8601.parse("2033-11-12T06:23:21Z"))
        #expect(ISO8601.parse("0033-11-13T04:50:21+22:27") != nil)
    }

    @Test func refusesWhatIsNotATimestamp() {
        #expect(ISO8601.parse("yesterday") == nil)
        #expect(ISO8601.parse("2026-13-01T00:00:00Z") == nil)
    }
}
