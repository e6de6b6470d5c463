import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Segment filters compiled to SQL against the pure evaluator over the same random contacts,
/// memberships and events (written through the real event writer, so `contact_activity` is
/// the trigger's work), and the activity trigger's edges.
@Suite("Segment SQL", .serialized)
struct SegmentSQLTests {
    /// A deterministic generator, so a failing filter can be found again by its seed.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (state >> 11) ^ (state << 21)
        }
    }

    static let strangeName = #"x'); DROP TABLE contacts; --"#
    static let strangeValue = #"' OR 1=1 -- \" ${x} $1 ?"#
    static let countries: [JSONValue] = [.string("DE"), .string("FR"), .string("US"), .string("de")]
    static let words = ["alpha", "beta", "gamma", "Beta", "a%b_c"]
    static let eventTypes: [EventType] = SegmentFilter.eventTypes + [.sent, .accepted]

    /// A random scalar of the kinds attributes hold, overlapping what filters ask for.
    static func scalar(_ rng: inout Random) -> JSONValue {
        switch Int.random(in: 0..<6, using: &rng) {
        case 0, 1: return countries.randomElement(using: &rng)!
        case 2: return .number(Double(Int.random(in: 0...80, using: &rng)))
        case 3: return .bool(Bool.random(using: &rng))
        case 4: return .string(String(Int.random(in: 20...40, using: &rng)))
        default: return .string(strangeValue)
        }
    }

    static func attributes(_ rng: inout Random) -> [String: JSONValue] {
        var attributes: [String: JSONValue] = [:]
        if Int.random(in: 0..<5, using: &rng) > 0 { attributes["country"] = countries.randomElement(using: &rng)! }
        switch Int.random(in: 0..<5, using: &rng) {
        case 0: break
        case 1: attributes["age"] = .string(String(Int.random(in: 20...40, using: &rng)))
        default: attributes["age"] = .number(Double(Int.random(in: 18...70, using: &rng)) + (Bool.random(using: &rng) ? 0.5 : 0))
        }
        if Bool.random(using: &rng) { attributes["vip"] = .bool(Bool.random(using: &rng)) }
        if Int.random(in: 0..<4, using: &rng) == 0 { attributes["note"] = .null }
        if Bool.random(using: &rng) {
            attributes["name"] = .string((0..<Int.random(in: 1...3, using: &rng)).map { _ in words.randomElement(using: &rng)! }.joined(separator: " "))
        }
        if Int.random(in: 0..<4, using: &rng) == 0 { attributes["tags"] = .array([countries.randomElement(using: &rng)!]) }
        if Int.random(in: 0..<6, using: &rng) == 0 { attributes[strangeName] = Bool.random(using: &rng) ? .string(strangeValue) : .number(1) }
        return attributes
    }

    static func leaf(_ rng: inout Random, lists: [UUID], campaigns: [UUID]) -> SegmentFilter {
        let names = ["country", "age", "vip", "note", "name", "tags", "missing", strangeName]
        let name = names.randomElement(using: &rng)!
        switch Int.random(in: 0..<12, using: &rng) {
        case 0, 1: return .attribute(name: name, test: .eq(scalar(&rng)))
        case 2: return .attribute(name: name, test: .ne(scalar(&rng)))
        case 3: return .attribute(name: name, test: .in((0..<Int.random(in: 1...3, using: &rng)).map { _ in scalar(&rng) }))
        case 4: return .attribute(name: name, test: .exists)
        case 5:
            let needles = ["a", "Beta", "eta", "%", "_c", "' OR", "D"]
            return .attribute(name: name, test: .contains(needles.randomElement(using: &rng)!))
        case 6:
            let bound = Double(Int.random(in: 15...75, using: &rng)) + (Bool.random(using: &rng) ? 0.5 : 0)
            let tests: [SegmentFilter.AttributeTest] = [.gt(bound), .gte(bound), .lt(bound), .lte(bound)]
            return .attribute(name: Bool.random(using: &rng) ? "age" : name, test: tests.randomElement(using: &rng)!)
        case 7, 8:
            let status = ([nil] + SegmentFilter.MemberStatus.allCases.map(Optional.some)).randomElement(using: &rng)!
            return .list(id: (lists + [UUID()]).randomElement(using: &rng)!, status: status)
        default:
            let campaign = Bool.random(using: &rng) ? nil : (campaigns + [UUID()]).randomElement(using: &rng)!
            let days = [nil, 1, 7, 30, 45].randomElement(using: &rng)!
            return .event(type: SegmentFilter.eventTypes.randomElement(using: &rng)!, campaign: campaign, withinDays: days)
        }
    }

    static func filter(_ rng: inout Random, depth: Int, lists: [UUID], campaigns: [UUID]) -> SegmentFilter {
        if depth >= 3 || Int.random(in: 0..<3, using: &rng) == 0 { return leaf(&rng, lists: lists, campaigns: campaigns) }
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return .not(filter(&rng, depth: depth + 1, lists: lists, campaigns: campaigns))
        case 1: return .all((0..<Int.random(in: 0...3, using: &rng)).map { _ in filter(&rng, depth: depth + 1, lists: lists, campaigns: campaigns) })
        default: return .any((0..<Int.random(in: 0...3, using: &rng)).map { _ in filter(&rng, depth: depth + 1, lists: lists, campaigns: campaigns) })
        }
    }

    static func json(_ attributes: [String: JSONValue]) throws -> String {
        String(decoding: try JSONEncoder().encode(attributes), as: UTF8.self)
    }

    @Test func theSQLCountsWhomTheEvaluatorFinds() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 2, name: "it-segments")
        do {
            try await Migrator(pool: pool).migrate()
            var rng = Random(state: 16_002)
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "segments")
            let other = try await tenants.createTenant(name: "neighbour")
            let now = Date(timeIntervalSince1970: floor(Date().timeIntervalSince1970))
            let lists = [UUID(), UUID()]
            let campaigns = [UUID(), UUID()]
            for list in lists {
                try await pool.query("INSERT INTO contact_lists (id, tenant_id, name) VALUES ($1, $2, $3)", [list, tenant, list.lowercasedString])
            }
            var contacts: [SegmentContact] = []
            var activity: [UUID: [ContactActivity]] = [:]
            var events: [NewEvent] = []
            for index in 0..<300 {
                let contact = SegmentContact(id: UUID(), attributes: Self.attributes(&rng))
                contacts.append(contact)
                try await pool.query(
                    "INSERT INTO contacts (id, tenant_id, email, attributes) VALUES ($1, $2, $3, $4::jsonb)",
                    [contact.id, tenant, "c\(index)@example.com", try Self.json(contact.attributes)])
                for list in lists where Bool.random(using: &rng) {
                    let status = SegmentFilter.MemberStatus.allCases.randomElement(using: &rng)!
                    contacts[index].memberships[list] = status
                    try await pool.query(
                        "INSERT INTO list_members (list_id, contact_id, tenant_id, status) VALUES ($1, $2, $3, $4)", [list, contact.id, tenant, status.rawValue])
                }
                // A campaign sends a contact one message (messages_campaign_contact); API sends any number.
                let sends = [nil, nil, campaigns[0], campaigns[1]].shuffled(using: &rng).prefix(Int.random(in: 0...3, using: &rng))
                for campaign in sends {
                    let message = UUID()
                    try await pool.query(
                        """
                        INSERT INTO messages (id, tenant_id, status, priority, content, contact_id, campaign_id)
                        VALUES ($1, $2, 'sent', 'bulk', '{}', $3, $4)
                        """, [message, tenant, contact.id, campaign])
                    for _ in 0..<Int.random(in: 1...4, using: &rng) {
                        let type = Self.eventTypes.randomElement(using: &rng)!
                        let at = now.addingTimeInterval(-Double(Int.random(in: 0...(60 * 86_400), using: &rng)))
                        events.append(NewEvent(tenantID: tenant, messageID: message, type: type, occurredAt: at))
                        if SegmentFilter.eventTypes.contains(type) { activity[contact.id, default: []].append(ContactActivity(type: type, campaignID: campaign, lastAt: at)) }
                    }
                }
            }
            // The neighbour's contacts match anything; none may be counted for the tenant.
            let neighbourMessage = UUID()
            let neighbour = UUID()
            try await pool.query(
                "INSERT INTO contacts (id, tenant_id, email, attributes) VALUES ($1, $2, 'n@example.com', $3::jsonb)",
                [neighbour, other, try Self.json(["country": .string("DE"), "age": .number(30), "vip": .bool(true)])])
            try await pool.query(
                "INSERT INTO messages (id, tenant_id, status, priority, content, contact_id, campaign_id) VALUES ($1, $2, 'sent', 'bulk', '{}', $3, $4)",
                [neighbourMessage, other, neighbour, campaigns[0]])
            events.append(contentsOf: SegmentFilter.eventTypes.map { NewEvent(tenantID: other, messageID: neighbourMessage, type: $0, occurredAt: now) })
            // Written the way the fleet writes them: batches through the event writer, in random order.
            events.shuffle(using: &rng)
            let store = EventStore(pool: pool)
            for start in stride(from: 0, to: events.count, by: 97) { try await store.insert(Array(events[start..<min(start + 97, events.count)])) }

            let segments = SegmentStore(pool: pool)
            var nonEmpty = 0
            for round in 0..<400 {
                let filter = Self.filter(&rng, depth: 1, lists: lists, campaigns: campaigns)
                let expected = contacts.filter { filter.matches($0, activity: activity[$0.id] ?? [], now: now) }.map(\.id).sorted { $0.uuidString < $1.uuidString }
                let found = try await segments.contactIDs(tenantID: tenant, filter: filter, now: now).sorted { $0.uuidString < $1.uuidString }
                let text = String(decoding: try JSONEncoder().encode(filter), as: UTF8.self)
                #expect(found == expected, "round \(round): \(text)")
                if !expected.isEmpty && expected.count < contacts.count { nonEmpty += 1 }
                if round % 40 == 0 {
                    let preview = try await segments.preview(tenantID: tenant, filter: filter, now: now)
                    #expect(preview.count == expected.count)
                    let list = lists[round / 40 % 2]
                    let inList = contacts.filter { $0.memberships[list] == .subscribed && filter.matches($0, activity: activity[$0.id] ?? [], now: now) }
                    #expect(try await segments.preview(tenantID: tenant, filter: filter, listID: list, now: now).count == inList.count)
                }
            }
            // The filters told contacts apart (a generator that always matched all or none would prove nothing).
            #expect(nonEmpty > 100)
            #expect(try await pool.query("SELECT count(*) AS n FROM contacts").first?.int("n") == 301)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    @Test func namesAndValuesThatLookLikeSQLAreJustData() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 1, name: "it-segments-injection")
        do {
            try await Migrator(pool: pool).migrate()
            let tenant = try await TenantStore(pool: pool).createTenant(name: "injection")
            let hostile = UUID(), plain = UUID()
            try await pool.query(
                "INSERT INTO contacts (id, tenant_id, email, attributes) VALUES ($1, $2, 'h@example.com', $3::jsonb), ($4, $2, 'p@example.com', '{}')",
                [hostile, tenant, try Self.json([Self.strangeName: .string(Self.strangeValue)]), plain])
            let segments = SegmentStore(pool: pool)
            let now = Date()
            for test in [SegmentFilter.AttributeTest.eq(.string(Self.strangeValue)), .in([.string(Self.strangeValue)]), .exists, .contains("' OR 1=1")] {
                #expect(try await segments.contactIDs(tenantID: tenant, filter: .attribute(name: Self.strangeName, test: test), now: now) == [hostile])
            }
            #expect(try await segments.contactIDs(tenantID: tenant, filter: .attribute(name: "x", test: .eq(.string("' OR '1'='1"))), now: now).isEmpty)
            #expect(try await segments.contactIDs(tenantID: tenant, filter: .attribute(name: "'; SELECT 1; --", test: .gt(0)), now: now).isEmpty)
            let compiled = SegmentSQL.predicate(
                .attribute(name: Self.strangeName, test: .contains(Self.strangeValue)), tenantID: tenant, now: now, firstParameter: 1)
            #expect(!compiled.sql.contains("DROP") && !compiled.sql.contains("OR 1=1"))
            #expect(compiled.parameters.count == 3)
            #expect(try await pool.query("SELECT count(*) AS n FROM contacts").first?.int("n") == 2)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }

    @Test func activityIsKeptOnlyForContactsAndForgottenWithThem() async throws {
        let pool = PostgresPool(url: try await TestEnvironment.freshDatabase(), size: 1, name: "it-segments-activity")
        do {
            try await Migrator(pool: pool).migrate()
            let tenants = TenantStore(pool: pool)
            let tenant = try await tenants.createTenant(name: "with contacts")
            let bare = try await tenants.createTenant(name: "without contacts")
            let contact = UUID(), campaign = UUID(), campaignMessage = UUID(), apiMessage = UUID(), bareMessage = UUID()
            try await pool.query("INSERT INTO contacts (id, tenant_id, email) VALUES ($1, $2, 'a@example.com')", [contact, tenant])
            try await pool.query(
                """
                INSERT INTO messages (id, tenant_id, status, priority, content, contact_id, campaign_id) VALUES
                ($1, $4, 'sent', 'bulk', '{}', $6, $7), ($2, $4, 'sent', 'bulk', '{}', NULL, NULL), ($3, $5, 'sent', 'bulk', '{}', NULL, NULL)
                """, [campaignMessage, apiMessage, bareMessage, tenant, bare, contact, campaign])
            let early = Date(timeIntervalSince1970: 1_800_000_000), late = early.addingTimeInterval(3_600)
            let store = EventStore(pool: pool)
            try await store.insert([
                NewEvent(tenantID: tenant, messageID: campaignMessage, type: .opened, occurredAt: late),
                NewEvent(tenantID: tenant, messageID: campaignMessage, type: .sent, occurredAt: late),
                NewEvent(tenantID: tenant, messageID: apiMessage, type: .opened, occurredAt: late),
                NewEvent(tenantID: bare, messageID: bareMessage, type: .clicked, occurredAt: late),
            ])
            // An older event arriving later never moves the time back.
            try await store.insert([NewEvent(tenantID: tenant, messageID: campaignMessage, type: .opened, occurredAt: early)])
            let rows = try await pool.query("SELECT type, campaign_id, last_at FROM contact_activity WHERE contact_id = $1 ORDER BY campaign_id", [contact])
            #expect(try rows.map { try $0.uuid("campaign_id") } == [SegmentSQL.anyCampaign, campaign])
            #expect(try rows.allSatisfy { row in try row.string("type") == "opened" && (try row.date("last_at")) == late })
            #expect(try await pool.query("SELECT count(*) AS n FROM contact_activity").first?.int("n") == 2)
            try await pool.query("DELETE FROM contacts WHERE id = $1", [contact])
            #expect(try await pool.query("SELECT count(*) AS n FROM contact_activity").first?.int("n") == 0)
            // An event for a contact deleted meanwhile is still stored.
            try await store.insert([NewEvent(tenantID: tenant, messageID: campaignMessage, type: .clicked, occurredAt: late)])
            #expect(try await pool.query("SELECT count(*) AS n FROM events WHERE type = 'clicked'").first?.int("n") == 2)
        } catch {
            await pool.shutdown()
            throw error
        }
        await pool.shutdown()
    }
}
