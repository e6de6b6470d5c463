import Foundation
import MailfleetCore
import MailfleetPostgres

/// The runner's side: taking due enrollments, deciding each one's next step
/// (`SequenceDecision`), and writing what it decided, one chunk per transaction. Any
/// scheduler replica may run it: the chunk's enrollments are taken with `FOR UPDATE SKIP
/// LOCKED`. A step's message is inserted (the accept path's statement, the tenant's quota
/// counted) in the transaction that records the step in `sequence_messages` (primary key
/// enrollment and step) and moves the enrollment on: a crash before the commit leaves none of
/// it, after it all of it, so no step is made twice or skipped. Enqueueing follows the commit;
/// a crash in between leaves `queued` messages that reconciliation enqueues. A chunk that
/// fails is done again one sequence per transaction, and a sequence that still fails backs
/// off alone (`SequenceStore+Backoff`), so one broken sequence stops no other.
extension SequenceStore {
    /// What one call of `advanceDue` did.
    public struct StepPass: Sendable, Equatable {
        /// Enrollments taken (0: nothing was due, or every due one is held by another replica).
        public var taken = 0
        /// Step messages made.
        public var sent = 0
        /// Steps skipped: their condition was false, or the contact's message could not be made.
        public var skipped = 0
        /// Enrollments that ended early (unsubscribed, left the list, or goal).
        public var exited = 0
        /// Enrollments whose last step was done.
        public var completed = 0
        /// Enrollments put off to `until` because their tenant's quota is used up.
        public var deferred = 0
        /// Enrollments pushed back because their sequence's pass failed.
        public var failed = 0
        /// What failed, one line per sequence that backed off (also its `last_error`).
        public var errors: [String] = []
        /// The messages to put on the queue now.
        public var items: [MessageQueue.Item] = []

        /// Nothing done.
        public init() {}

        /// Adds another pass's counts and messages to this one's.
        mutating func add(_ other: StepPass) {
            taken += other.taken
            sent += other.sent
            skipped += other.skipped
            exited += other.exited
            completed += other.completed
            deferred += other.deferred
            failed += other.failed
            errors += other.errors
            items += other.items
        }
    }

    /// Takes up to `chunk` enrollments due at `now` (longest due first) and does one step of
    /// each. When that transaction fails, its enrollments are done again one sequence per
    /// transaction; a sequence that fails then backs off (its enrollments wait `backoff`'s
    /// growing delay) and the others go on. An error before anything was taken, or one writing
    /// a backoff (Postgres gone), is thrown for the runner's outage handling.
    public func advanceDue(chunk: Int, now: Date = Date(), backoff: CampaignBackoff = CampaignBackoff()) async throws -> StepPass {
        let claim = DueClaim()
        do {
            return try await pool.transaction { try Self.advance(chunk: chunk, only: nil, now: now, claim: claim, on: $0) }
        } catch {
            let taken = claim.enrollments
            guard !taken.isEmpty, !(error is CancellationError) else { throw error }
            let failure = error
            var order: [UUID] = []
            var groups: [UUID: [UUID]] = [:]
            for (id, sequenceID) in taken {
                if groups[sequenceID] == nil { order.append(sequenceID) }
                groups[sequenceID, default: []].append(id)
            }
            var pass = StepPass()
            for sequenceID in order {
                let ids = groups[sequenceID] ?? []
                do {
                    pass.add(try await pool.transaction { try Self.advance(chunk: ids.count, only: ids, now: now, claim: nil, on: $0) })
                } catch let cancelled as CancellationError {
                    throw cancelled
                } catch {
                    do {
                        pass.errors.append(try await backOff(sequenceID: sequenceID, enrollments: ids, error: "\(error)", now: now, backoff: backoff))
                        pass.failed += ids.count
                    } catch {
                        throw failure
                    }
                }
            }
            return pass
        }
    }

    /// One pass in the caller's transaction: the due enrollments (only those of `only` when
    /// given), told to `claim` as soon as they are taken.
    static func advance(chunk: Int, only: [UUID]?, now: Date, claim: DueClaim?, on connection: PostgresConnection) throws -> StepPass {
        var parameters: [any PostgresEncodable] = [now, chunk]
        if let only { parameters.append(only) }
        // An enrollment that entered by the list leaves when it is no longer a subscribed
        // member of it: removed, or the list deleted (`trigger_list_id` set NULL).
        let due = try connection.query(
            """
            SELECT e.id, e.tenant_id, e.sequence_id, e.contact_id, e.current_step, c.email, c.attributes::text AS attributes,
                EXISTS (SELECT 1 FROM suppressions x WHERE x.tenant_id = e.tenant_id AND x.email = c.email)
                OR EXISTS (
                    SELECT 1 FROM sequences s JOIN list_members m ON m.list_id = s.trigger_list_id AND m.contact_id = e.contact_id
                    WHERE s.id = e.sequence_id AND m.status = 'unsubscribed') AS unsubscribed,
                e.entry = 'list' AND NOT EXISTS (
                    SELECT 1 FROM sequences s JOIN list_members m ON m.list_id = s.trigger_list_id AND m.contact_id = e.contact_id
                    WHERE s.id = e.sequence_id AND m.status = 'subscribed') AS left_list
            FROM sequence_enrollments e JOIN contacts c ON c.id = e.contact_id
            WHERE e.state = 'active' AND e.next_run_at <= $1\(only == nil ? "" : " AND e.id = ANY($3::uuid[])")
            ORDER BY e.next_run_at LIMIT $2 FOR UPDATE OF e SKIP LOCKED
            """, parameters
        ).map(DueEnrollment.init(row:))
        claim?.enrollments = due.map { (id: $0.id, sequenceID: $0.sequenceID) }
        var pass = StepPass()
        pass.taken = due.count
        guard !due.isEmpty else { return pass }

        var sequences: [UUID: DripSequence] = [:]
        for row in try connection.query("SELECT * FROM sequences WHERE id = ANY($1::uuid[])", [Array(Set(due.map(\.sequenceID)))]) {
            let sequence = try Self.sequence(from: row)
            sequences[sequence.id] = sequence
        }
        let histories = try Self.histories(of: due.map(\.id), on: connection)
        let segmentMatches = try Self.segmentMatches(due, sequences: sequences, now: now, on: connection)

        // Decide every enrollment; build the messages of the steps to send, per tenant.
        var outcomes: [UUID: Outcome] = [:]
        var sends: [UUID: [(enrollment: DueEnrollment, step: Int, submission: MessageSubmission)]] = [:]
        var templates: [UUID: [UUID: MessageTemplate]] = [:]
        var templateKeys: [StepKey: UUID] = [:]
        for enrollment in due {
            guard let sequence = sequences[enrollment.sequenceID] else { continue }
            let decision = SequenceDecision.decide(
                sequence, currentStep: enrollment.currentStep, history: histories[enrollment.id] ?? SequenceHistory(),
                unsubscribed: enrollment.unsubscribed, leftList: enrollment.leftList, segmentMatches: segmentMatches.contains(enrollment.id))
            switch decision {
            case .exit(let reason): outcomes[enrollment.id] = .exit(reason)
            case .complete: outcomes[enrollment.id] = .done(step: nil, next: nil)
            case .skip(let step): outcomes[enrollment.id] = .done(step: .init(step: step, message: nil), next: SequenceDecision.nextRunAt(sequence, afterStep: step, now: now))
            case .send(let step):
                let key = StepKey(sequenceID: sequence.id, step: step)
                let templateKey = templateKeys[key] ?? UUID()
                templateKeys[key] = templateKey
                templates[enrollment.tenantID, default: [:]][templateKey] = sequence.steps[step - 1].template
                if let submission = sequence.submission(step: step, email: enrollment.email, attributes: enrollment.attributes, templateKey: templateKey) {
                    sends[enrollment.tenantID, default: []].append((enrollment, step, submission))
                } else {
                    outcomes[enrollment.id] = .done(step: .init(step: step, message: nil), next: SequenceDecision.nextRunAt(sequence, afterStep: step, now: now))
                }
            }
        }

        // The tenants' quotas are locked and counted as for a campaign chunk. A tenant's steps
        // are in due order, so what its quota leaves goes to those due longest; the rest wait
        // until the period resets.
        let periods = UsagePeriods(now: now)
        let ledgers = try MessageStore.lockUsage(tenantIDs: sends.keys.sorted { $0.uuidString < $1.uuidString }, periods: periods, on: connection)
        var limited: [Made] = [], unlimited: [Made] = []
        for (tenantID, items) in sends {
            let plan = SubmissionPlan(
                items: items.map { .success($0.submission) }, isBatch: true, tenantID: tenantID, templates: templates[tenantID] ?? [:],
                limits: MessageLimits(), now: now)
            var made: [Made] = []
            for (index, outcome) in plan.outcomes.enumerated() {
                let item = items[index]
                let next = SequenceDecision.nextRunAt(sequences[item.enrollment.sequenceID]!, afterStep: item.step, now: now)
                switch outcome {
                case .success(var message):
                    message.contactID = item.enrollment.contactID
                    made.append(Made(enrollment: item.enrollment, step: item.step, next: next, message: message))
                case .failure:
                    outcomes[item.enrollment.id] = .done(step: .init(step: item.step, message: nil), next: next)
                }
            }
            guard var ledger = ledgers[tenantID] else {
                unlimited += made
                continue
            }
            let (admitted, refusal) = ledger.admitPrefix(made.map { $0.message.status == .queued ? 1 : 0 })
            limited += made[..<admitted]
            for entry in made[admitted...] { outcomes[entry.enrollment.id] = .deferred(until: refusal?.resetsAt ?? now) }
        }
        var inserted = limited
        let counted = Self.prepared(limited)
        _ = try MessageStore.insert(counted.rows, bodies: counted.bodies, periods: periods, unlessQuota: false, on: connection)
        let uncounted = Self.prepared(unlimited)
        if try MessageStore.insert(uncounted.rows, bodies: uncounted.bodies, periods: periods, unlessQuota: true, on: connection) != nil {
            inserted += unlimited
        } else {
            // A quota was set between the lock and the insert: nothing of these was written, and
            // the next pass counts them under it.
            for entry in unlimited { outcomes[entry.enrollment.id] = .deferred(until: now) }
        }
        for entry in inserted { outcomes[entry.enrollment.id] = .done(step: .init(step: entry.step, message: entry.message.id), next: entry.next) }
        try Self.record(outcomes, of: due, now: now, pass: &pass, on: connection)
        // A pass that works ends its sequences' run of failures.
        try connection.query(
            "UPDATE sequences SET failures = 0, last_error = NULL WHERE id = ANY($1::uuid[]) AND failures > 0", [Array(sequences.keys)])
        pass.sent = inserted.count
        pass.items = inserted.map(\.message).filter { $0.status == .queued }.map {
            MessageQueue.Item(id: $0.id, priority: $0.priority, tenantID: $0.tenantID, dueAt: $0.sendAt)
        }
        return pass
    }

    /// A step message made for an enrollment, before it is inserted.
    struct Made {
        let enrollment: DueEnrollment
        let step: Int
        let next: Date?
        let message: Message
    }

    /// The rows and bodies of some made messages, for the insert.
    private static func prepared(_ made: [Made]) -> PreparedMessages {
        var prepared = PreparedMessages()
        for entry in made { prepared.append(entry.message) }
        return prepared
    }

    /// A due enrollment as the runner reads it, with its contact.
    struct DueEnrollment: Sendable {
        let id: UUID
        let tenantID: UUID
        let sequenceID: UUID
        let contactID: UUID
        let currentStep: Int
        let email: String
        let attributes: JSONValue
        let unsubscribed: Bool
        let leftList: Bool

        init(row: PostgresRow) throws {
            id = try row.uuid("id")
            tenantID = try row.uuid("tenant_id")
            sequenceID = try row.uuid("sequence_id")
            contactID = try row.uuid("contact_id")
            currentStep = try row.int("current_step")
            email = try row.string("email")
            attributes = (try? JSONDecoder().decode(JSONValue.self, from: Data(try row.string("attributes").utf8))) ?? .object([:])
            unsubscribed = try row.bool("unsubscribed")
            leftList = try row.bool("left_list")
        }
    }

    private struct StepKey: Hashable {
        let sequenceID: UUID
        let step: Int
    }

    /// A step done: its number and message (nil: skipped).
    private struct DoneStep {
        let step: Int
        let message: UUID?
    }

    /// What becomes of one enrollment in this pass.
    private enum Outcome {
        /// A step done (or none, when nothing was left); `next` nil: the enrollment is completed.
        case done(step: DoneStep?, next: Date?)
        case exit(SequenceEnrollment.ExitReason)
        /// Left as it is, due again at `until`.
        case deferred(until: Date)
    }

    /// Writes the pass's steps and moves its enrollments on, in two statements.
    private static func record(_ outcomes: [UUID: Outcome], of due: [DueEnrollment], now: Date, pass: inout StepPass, on connection: PostgresConnection) throws {
        var steps: [(enrollment: DueEnrollment, step: DoneStep)] = []
        var ids: [UUID] = [], states: [String] = [], reasons: [String?] = [], currentSteps: [Int] = [], nextRuns: [Date?] = []
        for enrollment in due {
            guard let outcome = outcomes[enrollment.id] else { continue }
            ids.append(enrollment.id)
            switch outcome {
            case .done(let step, let next):
                if let step {
                    steps.append((enrollment, step))
                    if step.message == nil { pass.skipped += 1 }
                }
                states.append(next == nil ? SequenceEnrollment.State.completed.rawValue : SequenceEnrollment.State.active.rawValue)
                reasons.append(nil)
                currentSteps.append(step?.step ?? enrollment.currentStep)
                nextRuns.append(next)
                if next == nil { pass.completed += 1 }
            case .exit(let reason):
                states.append(SequenceEnrollment.State.exited.rawValue)
                reasons.append(reason.rawValue)
                currentSteps.append(enrollment.currentStep)
                nextRuns.append(nil)
                pass.exited += 1
            case .deferred(let until):
                states.append(SequenceEnrollment.State.active.rawValue)
                reasons.append(nil)
                currentSteps.append(enrollment.currentStep)
                nextRuns.append(until)
                pass.deferred += 1
            }
        }
        if !steps.isEmpty {
            // A second row for a step would break the primary key and roll the pass back: a
            // step is never recorded (or its message kept) twice.
            try connection.query(
                """
                INSERT INTO sequence_messages (enrollment_id, step, tenant_id, message_id, done_at)
                SELECT e, s, t, m, $5 FROM unnest($1::uuid[], $2::int[], $3::uuid[], $4::uuid[]) AS u(e, s, t, m)
                """, [steps.map(\.enrollment.id), steps.map(\.step.step), steps.map(\.enrollment.tenantID), steps.map(\.step.message), now])
        }
        try connection.query(
            """
            UPDATE sequence_enrollments e SET state = u.state, exit_reason = u.reason, current_step = u.step, next_run_at = u.next,
                updated_at = $6::timestamptz, finished_at = CASE WHEN u.state = 'active' THEN NULL ELSE $6::timestamptz END
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS u(id, state, reason, step, next)
            WHERE e.id = u.id
            """, [ids, states, reasons, currentSteps, nextRuns, now])
    }

    /// What each enrollment's earlier steps did: their messages and those messages' events.
    static func histories(of enrollments: [UUID], on connection: PostgresConnection) throws -> [UUID: SequenceHistory] {
        var histories: [UUID: SequenceHistory] = [:]
        for row in try connection.query(
            """
            SELECT sm.enrollment_id, sm.step, sm.message_id, ev.type
            FROM sequence_messages sm
            LEFT JOIN LATERAL (
                SELECT DISTINCT e.type FROM events e
                WHERE e.message_id = sm.message_id AND e.type IN ('delivered', 'bounced', 'opened', 'clicked', 'unsubscribed', 'complained')
            ) ev ON true
            WHERE sm.enrollment_id = ANY($1::uuid[])
            """, [enrollments]) {
            let id = try row.uuid("enrollment_id")
            let step = try row.int("step")
            histories[id, default: SequenceHistory()].record(step: step, message: row.optionalString("message_id").flatMap(UUID.init(uuidString:)))
            if let type = row.optionalString("type").flatMap(EventType.init(rawValue:)) {
                histories[id, default: SequenceHistory()].record(step: step, event: type)
            }
        }
        return histories
    }

    /// The enrollments whose next step has a segment condition that their contact matches now:
    /// one query per sequence step among them, the segment compiled as for a campaign.
    static func segmentMatches(
        _ due: [DueEnrollment], sequences: [UUID: DripSequence], now: Date, on connection: PostgresConnection
    ) throws -> Set<UUID> {
        var groups: [StepKey: [DueEnrollment]] = [:]
        for enrollment in due {
            guard let sequence = sequences[enrollment.sequenceID], sequence.steps.indices.contains(enrollment.currentStep),
                case .segment = sequence.steps[enrollment.currentStep].condition
            else { continue }
            groups[StepKey(sequenceID: sequence.id, step: enrollment.currentStep + 1), default: []].append(enrollment)
        }
        var matched = Set<UUID>()
        for (key, members) in groups {
            guard let sequence = sequences[key.sequenceID], case .segment(let filter)? = sequence.steps[key.step - 1].condition else { continue }
            let compiled = SegmentSQL.predicate(filter, tenantID: sequence.tenantID, now: now, firstParameter: 2)
            let contacts = Set(try connection.query(
                "SELECT c.id FROM contacts c WHERE c.id = ANY($1::uuid[]) AND \(compiled.sql)", [members.map(\.contactID)] + compiled.parameters
            ).map { try $0.uuid("id") })
            for member in members where contacts.contains(member.contactID) { matched.insert(member.id) }
        }
        return matched
    }
}
