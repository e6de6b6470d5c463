import Foundation

/// Which dead letters (failed messages) a listing or a re-drive takes. Every field narrows the
/// selection; an empty filter takes them all, which a re-drive refuses unless asked for
/// explicitly.
public struct DeadLetterFilter: Sendable, Equatable {
    /// Only this tenant's messages.
    public var tenantID: UUID?
    /// Only messages whose error contains this text (compared case-insensitively).
    public var reason: String?
    /// Only messages that failed at or after this time.
    public var since: Date?
    /// Only messages that failed before this time.
    public var until: Date?
    /// Only these messages.
    public var ids: [UUID]?

    /// Creates a filter.
    public init(tenantID: UUID? = nil, reason: String? = nil, since: Date? = nil, until: Date? = nil, ids: [UUID]? = nil) {
        self.tenantID = tenantID
        self.reason = reason
        self.since = since
        self.until = until
        self.ids = ids
    }

    /// True when nothing narrows the selection: every dead letter of every tenant.
    public var isEmpty: Bool { tenantID == nil && reason == nil && since == nil && until == nil && ids == nil }

    /// The same filter, taking only messages that failed before `cutoff` as well. A re-drive
    /// is bounded by its start time this way, so a message that fails again while the re-drive
    /// runs is not taken a second time.
    public func failed(before cutoff: Date) -> DeadLetterFilter {
        var bounded = self
        bounded.until = min(until ?? cutoff, cutoff)
        return bounded
    }
}

extension DeadLetterFilter: CustomStringConvertible {
    /// The filter in a few words, for audit entries and messages: `tenant=…, reason~"…", since=…`.
    public var description: String {
        var parts: [String] = []
        if let tenantID { parts.append("tenant=\(tenantID.lowercasedString)") }
        if let reason { parts.append("reason~\(String(reflecting: reason))") }
        if let since { parts.append("since=\(ISO8601.format(since))") }
        if let until { parts.append("until=\(ISO8601.format(until))") }
        if let ids { parts.append(ids.count == 1 ? "id=\(ids[0].lowercasedString)" : "ids=\(ids.count)") }
        return parts.isEmpty ? "all" : parts.joined(separator: ", ")
    }
}
