import Foundation
import MailfleetCore
import Testing

@Suite struct SegmentFilterTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let campaign = UUID(uuidString: "0b7c6d1e-0000-4000-8000-000000000001")!
    static let list = UUID(uuidString: "0b7c6d1e-0000-4000-8000-0000000000aa")!

    static func parse(_ text: String) throws -> SegmentFilter {
        try SegmentFilter(json: JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))
    }

    static func refusal(_ text: String) -> FieldError? {
        do {
            _ = try parse(text)
            return nil
        } catch let error as FieldError {
            return error
        } catch {
            return FieldError(code: "not_json", field: nil, message: "\(error)")
        }
    }

    @Test func theIssuesExampleParsesAndRoundTrips() throws {
        let text = """
            {"all":[{"attribute":"country","op":"eq","value":"DE"},{"event":"opened","within_days":30},
            {"not":{"event":"clicked","campaign":"\(Self.campaign.lowercasedString)"}}]}
            """
        let filter = try Self.parse(text)
        #expect(filter == .all([
            .attribute(name: "country", test: .eq(.string("DE"))),
            .event(type: .opened, campaign: nil, withinDays: 30),
            .not(.event(type: .clicked, campaign: Self.campaign, withinDays: nil)),
        ]))
        #expect(try SegmentFilter(json: filter.json) == filter)
        let encoded = try JSONEncoder().encode(filter)
        #expect(try JSONDecoder().decode(SegmentFilter.self, from: encoded) == filter)
    }

    @Test func everyOperatorAndLeafParses() throws {
        let filter = try Self.parse("""
            {"any":[{"attribute":"a","op":"ne","value":1},{"attribute":"a","op":"in","value":["x",2,true]},
            {"attribute":"a","op":"exists"},{"attribute":"a","op":"contains","value":"ab"},
            {"attribute":"n","op":"gt","value":1.5},{"attribute":"n","op":"gte","value":2},{"attribute":"n","op":"lt","value":-3},
            {"attribute":"n","op":"lte","value":0},{"list":"\(Self.list.lowercasedString)"},
            {"list":"\(Self.list.lowercasedString)","status":"pending"},{"event":"complained"}]}
            """)
        guard case .any(let children) = filter else { Issue.record("not an any"); return }
        #expect(children.count == 11)
        #expect(children[1] == .attribute(name: "a", test: .in([.string("x"), .number(2), .bool(true)])))
        #expect(children[9] == .list(id: Self.list, status: .pending))
        #expect(try SegmentFilter(json: filter.json) == filter)
    }

    @Test func errorsNameThePathToTheBadNode() {
        let error = Self.refusal("""
            {"all":[{"attribute":"a","op":"eq","value":1},{"event":"opened"},{"attribute":"country","op":"eqq","value":"DE"}]}
            """)
        #expect(error?.code == "invalid_filter")
        #expect(error?.field == "filter.all[2].op")
        #expect(error?.message.hasPrefix("filter.all[2].op: unknown operator \"eqq\"") == true)

        let cases: [(String, String)] = [
            (#"[]"#, "filter"),
            (#"{}"#, "filter"),
            (#"{"all":[],"any":[]}"#, "filter"),
            (#"{"all":{}}"#, "filter.all"),
            (#"{"not":{"event":"opend"}}"#, "filter.not.event"),
            (#"{"event":"sent"}"#, "filter.event"),
            (#"{"event":"opened","within_days":0}"#, "filter.within_days"),
            (#"{"event":"opened","within_days":1.5}"#, "filter.within_days"),
            (#"{"event":"opened","campaign":"nope"}"#, "filter.campaign"),
            (#"{"event":"opened","days":3}"#, "filter.days"),
            (#"{"list":"x"}"#, "filter.list"),
            (#"{"list":"0b7c6d1e-0000-4000-8000-0000000000aa","status":"gone"}"#, "filter.status"),
            (#"{"attribute":"","op":"eq","value":1}"#, "filter.attribute"),
            (#"{"attribute":"a","value":1}"#, "filter.op"),
            (#"{"attribute":"a","op":"eq"}"#, "filter.value"),
            (#"{"attribute":"a","op":"eq","value":null}"#, "filter.value"),
            (#"{"attribute":"a","op":"eq","value":{"b":1}}"#, "filter.value"),
            (#"{"attribute":"a","op":"exists","value":true}"#, "filter.value"),
            (#"{"attribute":"a","op":"gt","value":"5"}"#, "filter.value"),
            (#"{"attribute":"a","op":"contains","value":""}"#, "filter.value"),
            (#"{"attribute":"a","op":"in","value":[]}"#, "filter.value"),
            (#"{"attribute":"a","op":"in","value":["x",[1]]}"#, "filter.value[1]"),
            (#"{"any":[{"attribute":"a","op":"eq","value":1,"extra":2}]}"#, "filter.any[0].extra"),
        ]
        for (text, field) in cases {
            let error = Self.refusal(text)
            #expect(error?.code == "invalid_filter", "\(text)")
            #expect(error?.field == field, "\(text): \(String(describing: error))")
        }
    }

    @Test func depthAndSizeAreLimited() {
        var deep = #"{"attribute":"a","op":"exists"}"#
        for _ in 1..<SegmentFilter.maxDepth { deep = #"{"not":\#(deep)}"# }
        #expect(Self.refusal(deep) == nil)
        let tooDeep = #"{"not":\#(deep)}"#
        #expect(Self.refusal(tooDeep)?.message.contains("deeper than \(SegmentFilter.maxDepth)") == true)

        let leaves = Array(repeating: #"{"attribute":"a","op":"exists"}"#, count: SegmentFilter.maxNodes - 1).joined(separator: ",")
        #expect(Self.refusal(#"{"all":[\#(leaves)]}"#) == nil)
        let refused = Self.refusal(#"{"all":[\#(leaves),{"event":"opened"}]}"#)
        #expect(refused?.field == "filter.all[\(SegmentFilter.maxNodes - 1)]")
        let values = (0...SegmentFilter.maxInValues).map(String.init).joined(separator: ",")
        #expect(Self.refusal(#"{"attribute":"a","op":"in","value":[\#(values)]}"#)?.field == "filter.value")
    }

    @Test func attributeTestsFollowJSONTypes() {
        let contact = SegmentContact(id: UUID(), attributes: [
            "country": .string("DE"), "age": .number(30), "vip": .bool(true), "note": .null, "bio": .string("likes Café au lait"),
            "code": .string("1"),
        ])
        func holds(_ name: String, _ test: SegmentFilter.AttributeTest) -> Bool {
            SegmentFilter.attribute(name: name, test: test).matches(contact, activity: [], now: Self.now)
        }
        #expect(holds("country", .eq(.string("DE"))))
        #expect(!holds("country", .eq(.string("de"))))
        #expect(holds("age", .eq(.number(30))))
        #expect(!holds("code", .eq(.number(1))), "the string \"1\" is not the number 1")
        #expect(holds("vip", .eq(.bool(true))))
        #expect(holds("missing", .ne(.string("DE"))), "ne is not eq, so a missing attribute is ne anything")
        #expect(!holds("country", .ne(.string("DE"))))
        #expect(holds("country", .in([.string("FR"), .string("DE")])))
        #expect(!holds("missing", .in([.string("DE")])))
        #expect(holds("note", .exists))
        #expect(!holds("missing", .exists))
        #expect(holds("bio", .contains("Café")))
        #expect(!holds("bio", .contains("café")))
        #expect(!holds("age", .contains("3")), "contains is for strings")
        #expect(holds("age", .gt(29.5)) && holds("age", .gte(30)) && holds("age", .lte(30)) && !holds("age", .lt(30)))
        #expect(!holds("code", .gte(0)), "comparisons are for numbers")
        // Canonically equivalent but different bytes: jsonb compares bytes, and so does this.
        let composed = SegmentContact(id: UUID(), attributes: ["name": .string("\u{E9}")])
        #expect(!SegmentFilter.attribute(name: "name", test: .eq(.string("e\u{301}"))).matches(composed, activity: [], now: Self.now))
    }

    @Test func groupsListsAndEvents() {
        let other = UUID()
        let contact = SegmentContact(id: UUID(), attributes: [:], memberships: [Self.list: .subscribed])
        let activity = [
            ContactActivity(type: .opened, campaignID: nil, lastAt: Self.now.addingTimeInterval(-10 * 86_400)),
            ContactActivity(type: .clicked, campaignID: Self.campaign, lastAt: Self.now.addingTimeInterval(-40 * 86_400)),
        ]
        func matches(_ filter: SegmentFilter) -> Bool { filter.matches(contact, activity: activity, now: Self.now) }
        #expect(matches(.all([])))
        #expect(!matches(.any([])))
        #expect(matches(.list(id: Self.list, status: nil)))
        #expect(matches(.list(id: Self.list, status: .subscribed)))
        #expect(!matches(.list(id: Self.list, status: .unsubscribed)))
        #expect(!matches(.list(id: other, status: nil)))
        #expect(matches(.event(type: .opened, campaign: nil, withinDays: 10)), "the window includes its first instant")
        #expect(!matches(.event(type: .opened, campaign: nil, withinDays: 9)))
        #expect(!matches(.event(type: .opened, campaign: Self.campaign, withinDays: nil)))
        #expect(matches(.event(type: .clicked, campaign: nil, withinDays: nil)))
        #expect(matches(.event(type: .clicked, campaign: Self.campaign, withinDays: 40)))
        #expect(!matches(.event(type: .clicked, campaign: Self.campaign, withinDays: 30)))
        #expect(matches(.all([.event(type: .opened, campaign: nil, withinDays: 30), .not(.event(type: .clicked, campaign: other, withinDays: nil))])))
        #expect(!matches(.all([.event(type: .opened, campaign: nil, withinDays: 30), .not(.event(type: .clicked, campaign: Self.campaign, withinDays: nil))])))
    }
}
