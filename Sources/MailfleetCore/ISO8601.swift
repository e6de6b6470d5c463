import Foundation

/// RFC 3339 timestamps, with or without fractional seconds.
public enum ISO8601 {
    /// Parses `2026-01-31T09:00:00Z` or `2026-01-31T09:00:00.123+02:00`.
    public static func parse(_ text: String) -> Date? {
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        return (try? fractional.parse(text)) ?? (try? plain.parse(text))
    }

    /// Formats as `2026-01-31T09:00:00.123Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
