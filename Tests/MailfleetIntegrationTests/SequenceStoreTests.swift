import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// Drip sequences against the real Postgres, with the runner's clock in the test's hands:
/// entry by API and by list subscription (in the subscribing transaction), each step at its
/// time, conditions on the events the real event writer records, exit on unsubscribe,
/// suppression and the goal, and a pass rolled back mid-chunk that leaves nothing behind.
@Suite("Drip sequences in the store", .serialized)
struct SequenceStoreTests {
    static let day: TimeInterval = 86_400

    /// A 3-step sequence: at once, a day later, and two days after that only for a contact
    /// who did not open step 2; a click on any step is the goal.
    static func threeSteps(tenant: UUID, list: UUID?) -> DripSequence {
        DripSequence(
            id: UUID(), tenantID: tenant, name: "welcome", triggerListID: list, from: try! EmailAddress(email: "hello@example.com"), goal: .clicked,
            steps: [
                SequenceStep(delaySeconds: 0, template: MessageTemplate(subject: "Welcome {{first_name}}", text: "Hi {{email}}", html: nil)),
                SequenceStep(delaySeconds: 86_400, template: MessageTemplate(subject: "Getting started", text: "Step two", html: nil)),
                SequenceStep(
                    delaySeconds: 2 * 86_400, template: MessageTemplate(subject: "Did you see this?", text: "Step three", html: nil),
                    condition: .event(.opened, step: 2, happened: false)),
            ])
    }

    /// Whether a time read back from Postgres (microseconds) is `expected`.
    static func same(_ date: Date?, _ expected: Date) -> Bool {
        guard let date else { return false }
        return abs(date.timeIntervalSince(expected)) < 0.001
    }

    /// Contact id → the steps it was sent (skipped steps left out), in step order.
    static func sentSteps(_ pool: PostgresPool, sequence: UUID) async throws -> [UUID: [Int]] {
        var out: [UUID: [Int]] = [:]
        for row in try await pool.query(
            """
            SELECT e.contact_id, sm.step FROM sequence_messages sm JOIN sequence_enrollments e ON e.id = sm.enrollment_id
            JOIN messages m ON m.id = sm.message_id
            WHERE e.sequence_id = $1 ORDER BY sm.step
            """, [sequence]) {
            out[try row.uuid("contact_id"), default: []].append(try row.int("step"))
        }
        return out
    }

    /// The message a contact was sent for a step.
    static func message(_ pool: PostgresPool, contact: UUID, step: Int) async throws -> UUID {
        try await pool.query(
            """
            SELECT sm.message_id FROM sequence_messages sm JOIN sequence_enrollments e ON e.id = sm.enrollment_id
            WHERE e.contact_id = $1 AND sm.step = $2
            """, [contact, step]
        ).first!.uuid("message_id")
    }

    @Test func eachContactGetsTheStepsItShouldAtTheirTimesAndLeavesOnUnsubscribeOrGoal() async throws {
        let db = try await TwoTenants.make()
        let pool = db.pool
        let contacts = ContactStore(pool: pool)
        let lists = ContactListStore(pool: pool)
        let store = SequenceStore(pool: pool)
        let events = EventStore(pool: pool)
        let list = try await lists.create(tenantID: db.a, name: "signups", doubleOptIn: true, actor: "test")
        let sequence = try await store.create(Self.threeSteps(tenant: db.a, list: list.id), actor: "test")
        #expect(sequence.steps == Self.threeSteps(tenant: db.a, list: list.id).steps)
        await #expect(throws: SequenceStore.CreateRefusal.nameTaken) { try await store.create(Self.threeSteps(tenant: db.a, list: nil), actor: "test") }
        var other = Self.threeSteps(tenant: db.b, list: list.id)
        other.name = "theirs"
        await #expect(throws: SequenceStore.CreateRefusal.noList) { try await store.create(other, actor: "test") }

        func contact(_ name: String) async throws -> UUID {
            let written = try await contacts.upsert(
                tenantID: db.a, email: "\(name)@example.com", attributes: ["first_name": .string(name.capitalized)], timeZone: nil)
            return written.contact.id
        }
        // By API: ada by id, bob by address (any case), dan by id.
        let ada = try await contact("ada"), bob = try await contact("bob"), dan = try await contact("dan")
        let start = Date()
        guard case .enrolled(let first, true) = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(ada), actor: "test", now: start)
        else { Issue.record("ada was not enrolled"); return }
        #expect(first.state == .active && first.currentStep == 0 && first.entry == .api && Self.same(first.nextRunAt, start))
        _ = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .email("BOB@example.com"), actor: "test", now: start)
        _ = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(dan), actor: "test", now: start)
        // Enrolling again keeps the one enrollment; unknown contacts and sequences are told apart.
        guard case .enrolled(let again, false) = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(ada), actor: "test", now: start)
        else { Issue.record("a second enrollment was made"); return }
        #expect(again.id == first.id)
        #expect(try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .email("nobody@example.com"), actor: "test") == .noContact)
        #expect(try await store.enroll(sequenceID: sequence.id, tenantID: db.b, contact: .id(ada), actor: "test") == .noSequence)

        // By list subscription: cyd joins pending (double opt-in) and enters only on confirming;
        // eve is added as subscribed; confirming or adding again enrols nobody twice.
        let cyd = try #require(try await contacts.addMember(tenantID: db.a, listID: list.id, email: "cyd@example.com", attributes: [:], timeZone: nil, status: nil)).contact.id
        #expect(try await store.enrollments(contactID: cyd, tenantID: db.a)?.isEmpty == true)
        _ = try await contacts.confirm(tenantID: db.a, listID: list.id, contactID: cyd)
        _ = try await contacts.confirm(tenantID: db.a, listID: list.id, contactID: cyd)
        let eve = try #require(try await contacts.addMember(
            tenantID: db.a, listID: list.id, email: "eve@example.com", attributes: [:], timeZone: nil, status: .subscribed)).contact.id
        _ = try await contacts.addMember(tenantID: db.a, listID: list.id, email: "eve@example.com", attributes: [:], timeZone: nil, status: .subscribed)
        // A subscriber of another list enters nothing.
        let elsewhere = try await lists.create(tenantID: db.a, name: "other", doubleOptIn: false, actor: "test")
        _ = try await contacts.addMember(tenantID: db.a, listID: elsewhere.id, email: "fay@example.com", attributes: [:], timeZone: nil, status: nil)
        let enrolled = try #require(try await store.enrollments(sequenceID: sequence.id, tenantID: db.a))
        #expect(Set(enrolled.map(\.contactID)) == [ada, bob, cyd, dan, eve])
        let byList: Set<UUID> = Set(enrolled.filter { $0.entry == .list }.map(\.contactID))
        #expect(byList == [cyd, eve])
        #expect(try await store.enrollments(sequenceID: sequence.id, tenantID: db.b) == nil)

        // Step 1 goes to all five at once (the list's entrants were entered by the database's clock).
        let t1 = start.addingTimeInterval(60)
        let pass1 = try await store.advanceDue(chunk: 2, now: t1)
        #expect(pass1.taken == 2 && pass1.sent == 2 && pass1.items.count == 2)
        var rest = try await store.advanceDue(chunk: 10, now: t1)
        #expect(rest.sent == 3)
        #expect(try await store.advanceDue(chunk: 10, now: t1).taken == 0)
        var sent = try await Self.sentSteps(pool, sequence: sequence.id)
        #expect(sent == [ada: [1], bob: [1], cyd: [1], dan: [1], eve: [1]])
        let welcome = try #require(try await MessageStore(pool: pool).message(id: try await Self.message(pool, contact: ada, step: 1), tenantID: db.a))
        #expect(welcome.message.content.subject == "Welcome Ada" && welcome.message.content.text == "Hi ada@example.com")
        #expect(welcome.message.batchID == sequence.batchID && welcome.message.priority == .bulk)
        let linked = try await pool.query("SELECT contact_id FROM messages WHERE id = $1", [welcome.message.id]).first?.uuid("contact_id")
        #expect(linked == ada)
        #expect(welcome.message.content.metadata["sequence_step"] == "1")

        // Meanwhile: cyd leaves the list, dan's address is suppressed, eve clicks step 1 (the goal).
        _ = try await contacts.setStatus(tenantID: db.a, listID: list.id, contactID: cyd, status: .unsubscribed)
        _ = try await SuppressionStore(pool: pool).add(tenantID: db.a, address: try EmailAddress(email: "dan@example.com"), reason: "manual")
        try await events.insert([NewEvent(tenantID: db.a, messageID: try await Self.message(pool, contact: eve, step: 1), type: .clicked, occurredAt: t1)])

        // Nothing is due until a day has passed.
        #expect(try await store.advanceDue(chunk: 10, now: t1.addingTimeInterval(Self.day - 1)).taken == 0)
        let t2 = t1.addingTimeInterval(Self.day)
        rest = try await store.advanceDue(chunk: 10, now: t2)
        #expect(rest.taken == 5 && rest.sent == 2 && rest.exited == 3)
        sent = try await Self.sentSteps(pool, sequence: sequence.id)
        #expect(sent == [ada: [1, 2], bob: [1, 2], cyd: [1], dan: [1], eve: [1]])
        let byContact = Dictionary(uniqueKeysWithValues: try #require(try await store.enrollments(sequenceID: sequence.id, tenantID: db.a)).map { ($0.contactID, $0) })
        #expect(byContact[cyd]?.state == .exited && byContact[cyd]?.exitReason == .unsubscribed)
        #expect(byContact[dan]?.state == .exited && byContact[dan]?.exitReason == .unsubscribed)
        #expect(byContact[eve]?.state == .exited && byContact[eve]?.exitReason == .goal)
        #expect(byContact[ada]?.currentStep == 2 && Self.same(byContact[ada]?.nextRunAt, t2.addingTimeInterval(2 * Self.day)))

        // Bob opens step 2, so step 3 (only for who did not) skips him; ada gets it.
        try await events.insert([NewEvent(tenantID: db.a, messageID: try await Self.message(pool, contact: bob, step: 2), type: .opened, occurredAt: t2)])
        #expect(try await store.advanceDue(chunk: 10, now: t2.addingTimeInterval(2 * Self.day - 1)).taken == 0)
        let t3 = t2.addingTimeInterval(2 * Self.day)
        rest = try await store.advanceDue(chunk: 10, now: t3)
        #expect(rest.taken == 2 && rest.sent == 1 && rest.skipped == 1 && rest.completed == 2)
        sent = try await Self.sentSteps(pool, sequence: sequence.id)
        #expect(sent == [ada: [1, 2, 3], bob: [1, 2], cyd: [1], dan: [1], eve: [1]])
        let done = try #require(try await store.enrollments(contactID: bob, tenantID: db.a))
        #expect(done.count == 1 && done[0].state == .completed && done[0].currentStep == 3 && done[0].nextRunAt == nil && Self.same(done[0].finishedAt, t3))
        #expect(try await store.counts(id: sequence.id, tenantID: db.a) == [.completed: 2, .exited: 3])
        // Nothing more, ever.
        #expect(try await store.advanceDue(chunk: 10, now: t3.addingTimeInterval(365 * Self.day)).taken == 0)
        let audit = try await AuditLog(pool: pool).entries(tenantID: db.a)
        #expect(audit.filter { $0.action == "sequence.enrolled" }.count == 3)
        #expect(audit.contains { $0.action == "sequence.created" })
    }

    @Test func aPassRolledBackMidChunkLeavesNothingAndTheNextDoesEveryStepOnce() async throws {
        let db = try await TwoTenants.make()
        let pool = db.pool
        let store = SequenceStore(pool: pool)
        let sequence = try await store.create(Self.threeSteps(tenant: db.a, list: nil), actor: "test")
        let start = Date()
        var ids: [UUID] = []
        for n in 0..<30 {
            let id = try await ContactStore(pool: pool).upsert(tenantID: db.a, email: "reader\(n)@example.com", attributes: [:], timeZone: nil).contact.id
            _ = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(id), actor: "test", now: start)
            ids.append(id)
        }
        // The process "dies" after the chunk's messages were inserted: its last statement fails,
        // so the transaction rolls back.
        try await pool.query("CREATE FUNCTION test_crash() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'killed'; END $$")
        try await pool.query("CREATE TRIGGER test_crash BEFORE UPDATE ON sequence_enrollments FOR EACH STATEMENT EXECUTE FUNCTION test_crash()")
        await #expect(throws: (any Error).self) { try await store.advanceDue(chunk: 20, now: start) }
        #expect(try await pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 0)
        #expect(try await pool.query("SELECT count(*) AS n FROM sequence_messages").first!.int("n") == 0)
        #expect(try await pool.query("SELECT count(*) AS n FROM sequence_enrollments WHERE current_step = 0").first!.int("n") == 30)
        try await pool.query("DROP TRIGGER test_crash ON sequence_enrollments")

        // Two runners at once share the due enrollments; each contact gets step 1 exactly once.
        async let a = store.advanceDue(chunk: 20, now: start)
        async let b = store.advanceDue(chunk: 20, now: start)
        let (one, two) = try await (a, b)
        _ = try await store.advanceDue(chunk: 20, now: start)
        #expect(one.sent + two.sent <= 30)
        let sent = try await Self.sentSteps(pool, sequence: sequence.id)
        #expect(Set(sent.keys) == Set(ids) && sent.values.allSatisfy { $0 == [1] })
        #expect(try await pool.query("SELECT count(*) AS n FROM messages").first!.int("n") == 30)
    }

    @Test func aSegmentConditionIsEvaluatedWhenTheStepComesDue() async throws {
        let db = try await TwoTenants.make()
        let store = SequenceStore(pool: db.pool)
        let filter = try SegmentFilter(json: .object(["attribute": .string("plan"), "op": .string("eq"), "value": .string("pro")]))
        let sequence = try await store.create(
            DripSequence(
                id: UUID(), tenantID: db.a, name: "pro tips", from: try EmailAddress(email: "hello@example.com"),
                steps: [SequenceStep(delaySeconds: 0, template: MessageTemplate(subject: "Pro tip", text: "t", html: nil), condition: .segment(filter))]),
            actor: "test")
        let contacts = ContactStore(pool: db.pool)
        let pro = try await contacts.upsert(tenantID: db.a, email: "pro@example.com", attributes: ["plan": .string("pro")], timeZone: nil).contact.id
        let free = try await contacts.upsert(tenantID: db.a, email: "free@example.com", attributes: ["plan": .string("free")], timeZone: nil).contact.id
        let now = Date()
        for id in [pro, free] { _ = try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(id), actor: "test", now: now) }
        let pass = try await store.advanceDue(chunk: 10, now: now)
        #expect(pass.sent == 1 && pass.skipped == 1 && pass.completed == 2)
        #expect(try await Self.sentSteps(db.pool, sequence: sequence.id) == [pro: [1]])
    }

    @Test func anImportEnrolsItsNewSubscribersOnceEvenWhenRunAgain() async throws {
        let db = try await TwoTenants.make()
        let list = try await ContactListStore(pool: db.pool).create(tenantID: db.a, name: "imported", doubleOptIn: false, actor: "test")
        let store = SequenceStore(pool: db.pool)
        let sequence = try await store.create(Self.threeSteps(tenant: db.a, list: list.id), actor: "test")
        var file = "email,first_name\n"
        for n in 0..<250 { file += "reader\(n)@example.com,Reader \(n)\n" }
        let bytes = Array(file.utf8)
        // Run twice, in batches of 100: the second run updates the members and enrols nobody again.
        for _ in 0..<2 {
            var importer = try await ContactImporter(
                store: ContactImportStore(pool: db.pool), tenantID: db.a, listID: list.id, format: .csv, actor: "test", batchSize: 100)
            try await importer.feed(bytes)
            _ = try await importer.finish()
        }
        let enrolled = try #require(try await store.enrollments(sequenceID: sequence.id, tenantID: db.a, limit: 1000))
        #expect(enrolled.count == 250 && Set(enrolled.map(\.contactID)).count == 250 && enrolled.allSatisfy { $0.entry == .list && $0.state == .active })
    }

    /// A one-step sequence for `tenant`.
    static func oneStep(tenant: UUID, name: String) -> DripSequence {
        DripSequence(
            id: UUID(), tenantID: tenant, name: name, from: try! EmailAddress(email: "hello@example.com"),
            steps: [SequenceStep(delaySeconds: 0, template: MessageTemplate(subject: "Hello", text: "t", html: nil))])
    }

    @Test func aQuotaSmallerThanThePassSendsWhatItLeavesToTheLongestDueAndTheRestWaitsForTheReset() async throws {
        let db = try await TwoTenants.make()
        let pool = db.pool
        let store = SequenceStore(pool: pool)
        let ours = try await store.create(Self.oneStep(tenant: db.a, name: "ours"), actor: "test")
        let theirs = try await store.create(Self.oneStep(tenant: db.b, name: "theirs"), actor: "test")
        try await pool.query("UPDATE tenants SET daily_quota = 20 WHERE id = $1", [db.a])
        // 30 contacts come due one second apart; the other tenant, without a quota, has one.
        let start = Date()
        var ids: [UUID] = []
        for n in 0..<30 {
            let id = try await ContactStore(pool: pool).upsert(tenantID: db.a, email: "reader\(n)@example.com", attributes: [:], timeZone: nil).contact.id
            _ = try await store.enroll(sequenceID: ours.id, tenantID: db.a, contact: .id(id), actor: "test", now: start.addingTimeInterval(Double(n)))
            ids.append(id)
        }
        let other = try await ContactStore(pool: pool).upsert(tenantID: db.b, email: "other@example.com", attributes: [:], timeZone: nil).contact.id
        _ = try await store.enroll(sequenceID: theirs.id, tenantID: db.b, contact: .id(other), actor: "test", now: start)

        let now = start.addingTimeInterval(60)
        let pass = try await store.advanceDue(chunk: 500, now: now)
        #expect(pass.taken == 31 && pass.sent == 21 && pass.deferred == 10 && pass.items.count == 21)
        let sent = try await Self.sentSteps(pool, sequence: ours.id)
        #expect(Set(sent.keys) == Set(ids.prefix(20)))
        #expect(try await Self.sentSteps(pool, sequence: theirs.id) == [other: [1]])
        let used = try await pool.query("SELECT sum(count) AS n FROM tenant_usage WHERE tenant_id = $1 AND period = 'daily'", [db.a]).first?.int("n")
        #expect(used == 20)
        // The rest wait for the day's reset, untouched, and are sent then.
        let reset = QuotaPeriod.daily.end(of: now)
        let waiting = try #require(try await store.enrollments(sequenceID: ours.id, tenantID: db.a, state: .active, limit: 100))
        #expect(waiting.count == 10 && waiting.allSatisfy { $0.currentStep == 0 && Self.same($0.nextRunAt, reset) })
        #expect(try await store.advanceDue(chunk: 500, now: now).taken == 0)
        let next = try await store.advanceDue(chunk: 500, now: reset)
        #expect(next.sent == 10 && next.completed == 10)
        #expect(Set(try await Self.sentSteps(pool, sequence: ours.id).keys) == Set(ids))
    }

    @Test func contactsWhoLeaveTheTriggerListOrWhoseListIsDeletedLeaveTheSequence() async throws {
        let db = try await TwoTenants.make()
        let pool = db.pool
        let contacts = ContactStore(pool: pool)
        let lists = ContactListStore(pool: pool)
        let store = SequenceStore(pool: pool)
        let signups = try await lists.create(tenantID: db.a, name: "signups", doubleOptIn: false, actor: "test")
        let trials = try await lists.create(tenantID: db.a, name: "trials", doubleOptIn: false, actor: "test")
        let welcome = try await store.create(Self.threeSteps(tenant: db.a, list: signups.id), actor: "test")
        var trial = Self.threeSteps(tenant: db.a, list: trials.id)
        trial.name = "trial"
        trial = try await store.create(trial, actor: "test")
        func member(_ name: String, of list: UUID) async throws -> UUID {
            let added = try await contacts.addMember(
                tenantID: db.a, listID: list, email: "\(name)@example.com", attributes: [:], timeZone: nil, status: .subscribed)
            return added!.contact.id
        }
        let ada = try await member("ada", of: signups.id), bob = try await member("bob", of: signups.id), cyd = try await member("cyd", of: signups.id)
        let eve = try await member("eve", of: trials.id)
        // Dan came in by API and is no member of the list: leaving it does not concern him.
        let dan = try await contacts.upsert(tenantID: db.a, email: "dan@example.com", attributes: [:], timeZone: nil).contact.id
        let t1 = Date().addingTimeInterval(60)
        _ = try await store.enroll(sequenceID: welcome.id, tenantID: db.a, contact: .id(dan), actor: "test", now: t1)
        #expect(try await store.advanceDue(chunk: 10, now: t1).sent == 5)

        // Bob is taken off the list, the trials list is deleted, and cyd uses step 1's
        // unsubscribe link, which also takes her off the sequence's list.
        #expect(try await contacts.removeMember(tenantID: db.a, listID: signups.id, contactID: bob))
        #expect(try await lists.delete(tenantID: db.a, id: trials.id, actor: "test"))
        let unlisted = try #require(try await store.sequence(id: trial.id, tenantID: db.a))
        #expect(unlisted.triggerListID == nil)
        let cydsMessage = try await Self.message(pool, contact: cyd, step: 1)
        try await SuppressionStore(pool: pool).unsubscribe(tenantID: db.a, messageID: cydsMessage, address: try EmailAddress(email: "cyd@example.com"))
        let membership = try await pool.query("SELECT status FROM list_members WHERE list_id = $1 AND contact_id = $2", [signups.id, cyd])
        #expect(try membership.first?.string("status") == "unsubscribed")

        let t2 = t1.addingTimeInterval(Self.day)
        let pass = try await store.advanceDue(chunk: 10, now: t2)
        #expect(pass.taken == 5 && pass.sent == 2 && pass.exited == 3)
        #expect(try await Self.sentSteps(pool, sequence: welcome.id) == [ada: [1, 2], bob: [1], cyd: [1], dan: [1, 2]])
        let reasons = Dictionary(uniqueKeysWithValues: try #require(try await store.enrollments(sequenceID: welcome.id, tenantID: db.a)).map { ($0.contactID, $0.exitReason) })
        #expect(reasons[bob] == .leftList && reasons[cyd] == .unsubscribed && reasons[ada] == .some(nil) && reasons[dan] == .some(nil))
        let trialEnrollment = try #require(try await store.enrollments(contactID: eve, tenantID: db.a)?.first)
        #expect(trialEnrollment.state == .exited && trialEnrollment.exitReason == .leftList)
    }

    @Test func aPendingMemberOfTheTriggerListIsNotEnrolledByAPIBeforeItConfirms() async throws {
        let db = try await TwoTenants.make()
        let contacts = ContactStore(pool: db.pool)
        let store = SequenceStore(pool: db.pool)
        let list = try await ContactListStore(pool: db.pool).create(tenantID: db.a, name: "opt-in", doubleOptIn: true, actor: "test")
        let sequence = try await store.create(Self.threeSteps(tenant: db.a, list: list.id), actor: "test")
        let cyd = try #require(try await contacts.addMember(
            tenantID: db.a, listID: list.id, email: "cyd@example.com", attributes: [:], timeZone: nil, status: nil)).contact.id
        #expect(try await store.enroll(sequenceID: sequence.id, tenantID: db.a, contact: .id(cyd), actor: "test") == .notSubscribed)
        #expect(try await store.enrollments(contactID: cyd, tenantID: db.a)?.isEmpty == true)
        // Confirming enrols her, by the list.
        _ = try await contacts.confirm(tenantID: db.a, listID: list.id, contactID: cyd)
        #expect(try await store.enrollments(contactID: cyd, tenantID: db.a)?.map(\.entry) == [.list])
    }

    @Test func aSequenceWhosePassFailsBacksOffAloneAndTheOthersGoOn() async throws {
        let db = try await TwoTenants.make()
        let pool = db.pool
        let store = SequenceStore(pool: pool)
        let broken = try await store.create(Self.oneStep(tenant: db.a, name: "broken"), actor: "test")
        let fine = try await store.create(Self.oneStep(tenant: db.b, name: "fine"), actor: "test")
        let start = Date()
        let ada = try await ContactStore(pool: pool).upsert(tenantID: db.a, email: "ada@example.com", attributes: [:], timeZone: nil).contact.id
        let bob = try await ContactStore(pool: pool).upsert(tenantID: db.b, email: "bob@example.com", attributes: [:], timeZone: nil).contact.id
        let bobs = try await ContactStore(pool: pool).upsert(tenantID: db.b, email: "bo2@example.com", attributes: [:], timeZone: nil).contact.id
        _ = try await store.enroll(sequenceID: broken.id, tenantID: db.a, contact: .id(ada), actor: "test", now: start)
        _ = try await store.enroll(sequenceID: fine.id, tenantID: db.b, contact: .id(bob), actor: "test", now: start.addingTimeInterval(1))
        _ = try await store.enroll(sequenceID: fine.id, tenantID: db.b, contact: .id(bobs), actor: "test", now: start.addingTimeInterval(2))
        // A replica of a newer version wrote a step field this one does not know: still read.
        try await pool.query(#"UPDATE sequences SET steps = jsonb_set(steps, '{0,send_window}', '"09:00-17:00"') WHERE id = $1"#, [fine.id])
        // The broken sequence's steps no longer read: every pass over it fails.
        try await pool.query(#"UPDATE sequences SET steps = '[{"delay_seconds":"soon"}]' WHERE id = $1"#, [broken.id])

        let backoff = CampaignBackoff(first: 5, maximum: 3600)
        let now = start.addingTimeInterval(10)
        let pass = try await store.advanceDue(chunk: 10, now: now, backoff: backoff)
        #expect(pass.sent == 2 && pass.failed == 1 && pass.errors.count == 1 && pass.items.count == 2)
        #expect(try await Self.sentSteps(pool, sequence: fine.id) == [bob: [1], bobs: [1]])
        func standing() async throws -> (failures: Int, error: String?, next: Date?) {
            let rows = try await pool.query("SELECT failures, last_error FROM sequences WHERE id = $1", [broken.id])
            let row = rows.first!
            let next = try await store.enrollments(contactID: ada, tenantID: db.a)?.first?.nextRunAt
            return (try row.int("failures"), row.optionalString("last_error"), next)
        }
        var now1 = try await standing()
        #expect(now1.failures == 1 && now1.error?.contains("1 in a row") == true && Self.same(now1.next, now.addingTimeInterval(5)))
        // Not due again before its delay; then it fails again and waits twice as long.
        #expect(try await store.advanceDue(chunk: 10, now: now.addingTimeInterval(4), backoff: backoff).taken == 0)
        let again = try await store.advanceDue(chunk: 10, now: now.addingTimeInterval(5), backoff: backoff)
        #expect(again.failed == 1 && again.sent == 0)
        now1 = try await standing()
        #expect(now1.failures == 2 && Self.same(now1.next, now.addingTimeInterval(15)))
        // Mended by hand, it goes on at its next try, and its run of failures ends.
        try await pool.query("UPDATE sequences SET steps = (SELECT steps FROM sequences WHERE id = $2) WHERE id = $1", [broken.id, fine.id])
        let mended = try await store.advanceDue(chunk: 10, now: now.addingTimeInterval(15), backoff: backoff)
        #expect(mended.sent == 1 && mended.failed == 0)
        now1 = try await standing()
        #expect(now1.failures == 0 && now1.error == nil)
        #expect(try await Self.sentSteps(pool, sequence: broken.id) == [ada: [1]])
    }
}
