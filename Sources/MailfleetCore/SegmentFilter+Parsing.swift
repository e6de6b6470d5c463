import Foundation

extension SegmentFilter {
    /// Reads a filter from JSON, refusing anything it does not understand with an
    /// `invalid_filter` error whose field is the path to the bad node (`filter.all[2].op`) and
    /// whose message starts with that path. `path` names the root.
    public init(json: JSONValue, path: String = "filter") throws(FieldError) {
        var nodes = 0
        self = try Self.parse(json, path: path, depth: 1, nodes: &nodes)
    }

    private static func parse(_ json: JSONValue, path: String, depth: Int, nodes: inout Int) throws(FieldError) -> SegmentFilter {
        guard depth <= maxDepth else { throw refusal(path, "nested deeper than \(maxDepth) levels") }
        nodes += 1
        guard nodes <= maxNodes else { throw refusal(path, "the filter has more than \(maxNodes) nodes") }
        guard case .object(let object) = json else {
            throw refusal(path, "expected an object with one of all, any, not, attribute, list or event")
        }
        let kinds = ["all", "any", "not", "attribute", "list", "event"].filter { object[$0] != nil }
        guard kinds.count == 1, let kind = kinds.first else {
            if kinds.isEmpty { throw refusal(path, "expected one of all, any, not, attribute, list or event") }
            throw refusal(path, "a node has one of \(kinds.joined(separator: ", ")), not several (group them with all or any)")
        }
        switch kind {
        case "all", "any":
            try refuseUnknown(object, known: [kind], path: path)
            guard case .array(let items) = object[kind]! else { throw refusal("\(path).\(kind)", "expected an array of conditions") }
            var children: [SegmentFilter] = []
            for (index, item) in items.enumerated() {
                children.append(try parse(item, path: "\(path).\(kind)[\(index)]", depth: depth + 1, nodes: &nodes))
            }
            return kind == "all" ? .all(children) : .any(children)
        case "not":
            try refuseUnknown(object, known: ["not"], path: path)
            return .not(try parse(object["not"]!, path: "\(path).not", depth: depth + 1, nodes: &nodes))
        case "attribute":
            return try attribute(object, path: path)
        case "list":
            try refuseUnknown(object, known: ["list", "status"], path: path)
            let id = try uuid(object["list"]!, path: "\(path).list", what: "a list id")
            var status: MemberStatus?
            if let given = object["status"] {
                guard case .string(let text) = given, let known = MemberStatus(rawValue: text) else {
                    throw refusal("\(path).status", "unknown status \(quoted(given)) (\(MemberStatus.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                status = known
            }
            return .list(id: id, status: status)
        default:
            return try event(object, path: path)
        }
    }

    private static func attribute(_ object: [String: JSONValue], path: String) throws(FieldError) -> SegmentFilter {
        try refuseUnknown(object, known: ["attribute", "op", "value"], path: path)
        guard case .string(let name) = object["attribute"]!, !name.isEmpty, name.unicodeScalars.count <= maxNameLength, !name.unicodeScalars.contains("\0") else {
            throw refusal("\(path).attribute", "expected an attribute name of 1 to \(maxNameLength) characters, without NUL")
        }
        guard let opValue = object["op"] else { throw refusal("\(path).op", "missing operator (\(AttributeTest.operators.joined(separator: ", ")))") }
        guard case .string(let op) = opValue, AttributeTest.operators.contains(op) else {
            throw refusal("\(path).op", "unknown operator \(quoted(opValue)) (\(AttributeTest.operators.joined(separator: ", ")))")
        }
        let valuePath = "\(path).value"
        if op == "exists" {
            guard object["value"] == nil else { throw refusal(valuePath, "exists takes no value") }
            return .attribute(name: name, test: .exists)
        }
        guard let value = object["value"] else { throw refusal(valuePath, "\(op) needs a value") }
        let test: AttributeTest
        switch op {
        case "eq": test = .eq(try scalar(value, path: valuePath))
        case "ne": test = .ne(try scalar(value, path: valuePath))
        case "in":
            guard case .array(let values) = value, !values.isEmpty, values.count <= maxInValues else {
                throw refusal(valuePath, "in needs an array of 1 to \(maxInValues) strings, numbers or booleans")
            }
            var scalars: [JSONValue] = []
            for (index, item) in values.enumerated() { scalars.append(try scalar(item, path: "\(valuePath)[\(index)]")) }
            test = .in(scalars)
        case "contains":
            guard case .string(let text) = value, !text.isEmpty, text.unicodeScalars.count <= maxValueLength, !text.unicodeScalars.contains("\0") else {
                throw refusal(valuePath, "contains needs a string of 1 to \(maxValueLength) characters, without NUL")
            }
            test = .contains(text)
        default:
            guard case .number(let number) = value, number.isFinite else { throw refusal(valuePath, "\(op) compares numbers: expected a number") }
            switch op {
            case "gt": test = .gt(number)
            case "gte": test = .gte(number)
            case "lt": test = .lt(number)
            default: test = .lte(number)
            }
        }
        return .attribute(name: name, test: test)
    }

    private static func event(_ object: [String: JSONValue], path: String) throws(FieldError) -> SegmentFilter {
        try refuseUnknown(object, known: ["event", "campaign", "within_days"], path: path)
        let given = object["event"]!
        guard case .string(let text) = given, let type = EventType(rawValue: text), eventTypes.contains(type) else {
            throw refusal("\(path).event", "unknown event \(quoted(given)) (\(eventTypes.map(\.rawValue).joined(separator: ", ")))")
        }
        let campaign = try object["campaign"].map { json throws(FieldError) in try uuid(json, path: "\(path).campaign", what: "a campaign id") }
        var withinDays: Int?
        if let days = object["within_days"] {
            guard case .number(let number) = days, number.rounded() == number, number >= 1, number <= Double(maxWithinDays) else {
                throw refusal("\(path).within_days", "expected a whole number of days from 1 to \(maxWithinDays)")
            }
            withinDays = Int(number)
        }
        return .event(type: type, campaign: campaign, withinDays: withinDays)
    }

    private static func scalar(_ value: JSONValue, path: String) throws(FieldError) -> JSONValue {
        switch value {
        case .string(let text) where text.unicodeScalars.count <= maxValueLength && !text.unicodeScalars.contains("\0"): return value
        case .number(let number) where number.isFinite: return value
        case .bool: return value
        case .string: throw refusal(path, "strings are limited to \(maxValueLength) characters, without NUL")
        default: throw refusal(path, "expected a string, number or boolean")
        }
    }

    private static func uuid(_ value: JSONValue, path: String, what: String) throws(FieldError) -> UUID {
        guard case .string(let text) = value, let id = UUID(uuidString: text) else { throw refusal(path, "expected \(what) (a UUID)") }
        return id
    }

    private static func refuseUnknown(_ object: [String: JSONValue], known: Set<String>, path: String) throws(FieldError) {
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw refusal("\(path).\(unknown)", "unknown field \"\(unknown)\" here (expected \(known.sorted().joined(separator: ", ")))")
        }
    }

    private static func quoted(_ value: JSONValue) -> String {
        if case .string(let text) = value { return "\"\(text)\"" }
        return "\(value)"
    }

    private static func refusal(_ path: String, _ problem: String) -> FieldError {
        FieldError(code: "invalid_filter", field: path, message: "\(path): \(problem)")
    }
}
