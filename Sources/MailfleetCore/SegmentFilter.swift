import Foundation

/// A segment's filter (docs/CAMPAIGNS.md, "Segments"): a tree of conditions over a contact's
/// attributes, list memberships and activity. Parsed and validated from JSON by
/// `SegmentFilter(json:)`, written back by `json`, checked one contact at a time by
/// `matches(_:activity:now:)`, and compiled to SQL by the store's `SegmentSQL`.
public indirect enum SegmentFilter: Sendable, Hashable {
    /// Every condition holds (`{"all":[...]}`; an empty list matches everyone).
    case all([SegmentFilter])
    /// At least one condition holds (`{"any":[...]}`; an empty list matches no one).
    case any([SegmentFilter])
    /// The condition does not hold (`{"not":...}`).
    case not(SegmentFilter)
    /// A test of one attribute (`{"attribute":"country","op":"eq","value":"DE"}`).
    case attribute(name: String, test: AttributeTest)
    /// Membership of a list, in any status or in the one given (`{"list":"<id>","status":"subscribed"}`).
    case list(id: UUID, status: MemberStatus?)
    /// An event of the contact's messages: of a type, optionally of one campaign, optionally
    /// within the last days (`{"event":"opened","within_days":30,"campaign":"<id>"}`).
    case event(type: EventType, campaign: UUID?, withinDays: Int?)

    /// What an attribute condition tests. Equality compares JSON scalars of the same kind
    /// (the string "1" is not the number 1); `ne` is exactly `not eq`, so a contact without the
    /// attribute is `ne` anything. The number comparisons hold only for number attributes.
    public enum AttributeTest: Sendable, Hashable {
        /// Equal to a string, number or boolean.
        case eq(JSONValue)
        /// Not equal (or missing).
        case ne(JSONValue)
        /// Equal to one of the values.
        case `in`([JSONValue])
        /// Present (even when null).
        case exists
        /// A string attribute containing the text (bytes as given, case-sensitive).
        case contains(String)
        /// A number attribute greater than the value.
        case gt(Double)
        /// A number attribute greater than or equal to the value.
        case gte(Double)
        /// A number attribute less than the value.
        case lt(Double)
        /// A number attribute less than or equal to the value.
        case lte(Double)

        /// The operator's name in JSON.
        public var op: String {
            switch self {
            case .eq: "eq"
            case .ne: "ne"
            case .in: "in"
            case .exists: "exists"
            case .contains: "contains"
            case .gt: "gt"
            case .gte: "gte"
            case .lt: "lt"
            case .lte: "lte"
            }
        }

        /// Every operator name, for error messages and the OpenAPI document.
        public static let operators = ["eq", "ne", "in", "exists", "contains", "gt", "gte", "lt", "lte"]
    }

    /// A contact's status on a list (`list_members.status`).
    public enum MemberStatus: String, Sendable, Hashable, CaseIterable {
        /// Waiting for double opt-in confirmation.
        case pending
        /// Subscribed.
        case subscribed
        /// Unsubscribed.
        case unsubscribed
    }

    /// The event types a filter can name: what happens to a message after it is sent.
    public static let eventTypes: [EventType] = [.delivered, .bounced, .opened, .clicked, .unsubscribed, .complained]

    /// The deepest nesting accepted (the root is depth 1).
    public static let maxDepth = 8
    /// The most nodes (groups and conditions) in one filter.
    public static let maxNodes = 100
    /// The most values of one `in`.
    public static let maxInValues = 100
    /// The longest attribute name, in Unicode scalars (JSON Schema's `maxLength`).
    public static let maxNameLength = 128
    /// The longest string value, in Unicode scalars.
    public static let maxValueLength = 1024
    /// The longest `within_days`: ten years.
    public static let maxWithinDays = 3650

    /// The filter as JSON, in the shape `init(json:)` reads (what is stored and answered).
    public var json: JSONValue {
        switch self {
        case .all(let children): return .object(["all": .array(children.map(\.json))])
        case .any(let children): return .object(["any": .array(children.map(\.json))])
        case .not(let child): return .object(["not": child.json])
        case .attribute(let name, let test):
            var object: [String: JSONValue] = ["attribute": .string(name), "op": .string(test.op)]
            switch test {
            case .eq(let value), .ne(let value): object["value"] = value
            case .in(let values): object["value"] = .array(values)
            case .exists: break
            case .contains(let text): object["value"] = .string(text)
            case .gt(let number), .gte(let number), .lt(let number), .lte(let number): object["value"] = .number(number)
            }
            return .object(object)
        case .list(let id, let status):
            var object: [String: JSONValue] = ["list": .string(id.lowercasedString)]
            if let status { object["status"] = .string(status.rawValue) }
            return .object(object)
        case .event(let type, let campaign, let withinDays):
            var object: [String: JSONValue] = ["event": .string(type.rawValue)]
            if let campaign { object["campaign"] = .string(campaign.lowercasedString) }
            if let withinDays { object["within_days"] = .number(Double(withinDays)) }
            return .object(object)
        }
    }
}

extension SegmentFilter: Codable {
    /// Reads and validates a filter; a bad one fails with the path and problem as its description.
    public init(from decoder: any Decoder) throws {
        let value = try JSONValue(from: decoder)
        do {
            self = try SegmentFilter(json: value)
        } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    /// Writes the filter's JSON.
    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}
