import Foundation

/// RFC 3339 timestamps, with or without fractional seconds.
public enum ISO8601 {
    /// Parses `2026-01-31T09:00:00Z` or `2026-01-31T09:00:00.123+02:00`.
    public static func parse(_ text: String) -> Date? {
        let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plain = Date.ISO8601FormatStyle()
        if let date = (try? fractional.parse(text)) ?? (try? plain.parse(text)) { return date }
        // The format style refuses some valid RFC 3339 text (an offset such as +22:27, an early
        // year) that the formatter takes; only text the fast path refused gets here.
        let formatter = ISO8601DateFormatter()
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Formats as `2026-01-31T09:00:00.123Z`.
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
