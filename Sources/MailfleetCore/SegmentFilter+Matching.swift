import Foundation

extension SegmentFilter {
    /// Whether `contact`, with `activity` (its events, or the latest of each kind), is in the
    /// segment at `now`: the meaning the compiled SQL must agree with, one contact at a time.
    public func matches(_ contact: SegmentContact, activity: [ContactActivity], now: Date) -> Bool {
        switch self {
        case .all(let children): return children.allSatisfy { $0.matches(contact, activity: activity, now: now) }
        case .any(let children): return children.contains { $0.matches(contact, activity: activity, now: now) }
        case .not(let child): return !child.matches(contact, activity: activity, now: now)
        case .attribute(let name, let test): return test.holds(for: contact.attributes[name])
        case .list(let id, let status):
            guard let found = contact.memberships[id] else { return false }
            return status.map { $0 == found } ?? true
        case .event(let type, let campaign, let withinDays):
            let since = withinDays.map { Self.since(days: $0, now: now) }
            return activity.contains { record in
                record.type == type && (campaign == nil || record.campaignID == campaign) && (since.map { record.lastAt >= $0 } ?? true)
            }
        }
    }

    /// The start of a `within_days` window ending at `now`.
    public static func since(days: Int, now: Date) -> Date {
        now.addingTimeInterval(-Double(days) * 86_400)
    }
}

extension SegmentFilter.AttributeTest {
    /// Whether an attribute's value (nil when the contact lacks it) passes the test.
    func holds(for value: JSONValue?) -> Bool {
        switch self {
        case .exists: return value != nil
        case .eq(let expected): return value.map { Self.same($0, expected) } ?? false
        case .ne(let expected): return !(value.map { Self.same($0, expected) } ?? false)
        case .in(let expected): return value.map { given in expected.contains { Self.same(given, $0) } } ?? false
        case .contains(let text):
            guard case .string(let string)? = value else { return false }
            return Self.bytes(of: string, contain: text)
        case .gt(let bound): return number(value).map { $0 > bound } ?? false
        case .gte(let bound): return number(value).map { $0 >= bound } ?? false
        case .lt(let bound): return number(value).map { $0 < bound } ?? false
        case .lte(let bound): return number(value).map { $0 <= bound } ?? false
        }
    }

    private func number(_ value: JSONValue?) -> Double? {
        if case .number(let number)? = value { return number }
        return nil
    }

    /// JSON scalar equality as Postgres's jsonb has it: strings byte for byte (Swift's `==`
    /// would also equate canonically equivalent Unicode), numbers by value.
    private static func same(_ given: JSONValue, _ expected: JSONValue) -> Bool {
        switch (given, expected) {
        case (.string(let a), .string(let b)): return a.utf8.elementsEqual(b.utf8)
        case (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        default: return false
        }
    }

    private static func bytes(of string: String, contain text: String) -> Bool {
        let haystack = Array(string.utf8), needle = Array(text.utf8)
        guard needle.count <= haystack.count else { return false }
        if needle.isEmpty { return true }
        for start in 0...(haystack.count - needle.count) where haystack[start..<start + needle.count].elementsEqual(needle) {
            return true
        }
        return false
    }
}
