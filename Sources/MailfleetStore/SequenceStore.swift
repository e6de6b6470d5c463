import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's drip sequences in Postgres: create, read, list, enrol a contact, and who is
/// where (docs/CAMPAIGNS.md "Drip sequences"). Entry by list subscription is done by the
/// triggers of migration 22, in the transaction that subscribes; the runner's side is
/// `SequenceStore+Steps`. Tenant-facing statements run under row-level security.
public struct SequenceStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store on the same Postgres as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.init(pool: messages.pool)
    }

    /// Why a sequence could not be created.
    public enum CreateRefusal: Error, Sendable, Equatable {
        /// The tenant has no list with that id.
        case noList
        /// The tenant already has a sequence of that name.
        case nameTaken
    }

    /// Stores a new sequence with an audit entry; refuses a trigger list the tenant does not
    /// have and a name it already uses.
    public func create(_ sequence: DripSequence, actor: String) async throws -> DripSequence {
        let steps = String(decoding: try JSONEncoder().encode(sequence.steps), as: UTF8.self)
        return try await pool.tenantTransaction(sequence.tenantID) { connection in
            if let list = sequence.triggerListID {
                guard try !connection.query("SELECT 1 FROM contact_lists WHERE id = $1 AND tenant_id = $2", [list, sequence.tenantID]).isEmpty else {
                    throw CreateRefusal.noList
                }
            }
            let inserted = try connection.query(
                """
                INSERT INTO sequences (id, tenant_id, name, trigger_list_id, from_email, from_name, reply_to_email, reply_to_name,
                    track_opens, track_clicks, goal_event, steps)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
                ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id
                """,
                [
                    sequence.id, sequence.tenantID, sequence.name, sequence.triggerListID, sequence.from.email, sequence.from.name,
                    sequence.replyTo?.email, sequence.replyTo?.name, sequence.trackOpens, sequence.trackClicks, sequence.goal?.rawValue, steps,
                ])
            guard !inserted.isEmpty else { throw CreateRefusal.nameTaken }
            try AuditLog.record(
                AuditEntry(
                    tenantID: sequence.tenantID, actor: actor, action: "sequence.created", target: sequence.id.lowercasedString,
                    detail: ["name": sequence.name]),
                on: connection)
            return try Self.fetch(id: sequence.id, tenantID: sequence.tenantID, on: connection)!
        }
    }

    /// One of the tenant's sequences, or nil.
    public func sequence(id: UUID, tenantID: UUID) async throws -> DripSequence? {
        try await pool.tenantTransaction(tenantID) { try Self.fetch(id: id, tenantID: tenantID, on: $0) }
    }

    /// The tenant's sequences by name, after the name `after` (a previous page's last).
    public func list(tenantID: UUID, after: String? = nil, limit: Int = 100) async throws -> [DripSequence] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "SELECT * FROM sequences WHERE tenant_id = $1 AND name > $2 ORDER BY name LIMIT $3", [tenantID, after ?? "", limit]
            ).map(Self.sequence(from:))
        }
    }

    /// Counts of a sequence's enrollments by state.
    public func counts(id: UUID, tenantID: UUID) async throws -> [SequenceEnrollment.State: Int] {
        try await pool.tenantTransaction(tenantID) { connection in
            var counts: [SequenceEnrollment.State: Int] = [:]
            for row in try connection.query(
                "SELECT state, count(*) AS n FROM sequence_enrollments WHERE sequence_id = $1 AND tenant_id = $2 GROUP BY state", [id, tenantID]) {
                if let state = SequenceEnrollment.State(rawValue: try row.string("state")) { counts[state] = try row.int("n") }
            }
            return counts
        }
    }

    /// Which contact to enrol.
    public enum ContactReference: Sendable, Hashable {
        /// A contact id.
        case id(UUID)
        /// An address, matched as contacts store it (lowercased).
        case email(String)
    }

    /// What `enroll` did.
    public enum EnrollOutcome: Sendable, Equatable {
        /// The tenant has no such sequence.
        case noSequence
        /// The tenant has no such contact.
        case noContact
        /// The contact is a `pending` (unconfirmed double opt-in) member of the sequence's
        /// trigger list: it has not agreed to the list's mail yet.
        case notSubscribed
        /// The contact's enrollment: new (`created`), or the one it already had (a contact
        /// enters a sequence once).
        case enrolled(SequenceEnrollment, created: Bool)
    }

    /// Enrols a contact (the API's way in) at `now`, with an audit entry when it is new; not a
    /// pending member of the trigger list (its confirmation enrols it).
    public func enroll(sequenceID: UUID, tenantID: UUID, contact: ContactReference, actor: String, now: Date = Date()) async throws -> EnrollOutcome {
        try await pool.tenantTransaction(tenantID) { connection in
            guard let sequence = try Self.fetch(id: sequenceID, tenantID: tenantID, on: connection) else { return .noSequence }
            let found: PostgresRows
            switch contact {
            case .id(let id): found = try connection.query("SELECT id FROM contacts WHERE id = $1 AND tenant_id = $2", [id, tenantID])
            case .email(let email): found = try connection.query("SELECT id FROM contacts WHERE email = $1 AND tenant_id = $2", [email.lowercased(), tenantID])
            }
            guard let contactID = try found.first?.uuid("id") else { return .noContact }
            if let list = sequence.triggerListID, try !connection.query(
                "SELECT 1 FROM list_members WHERE list_id = $1 AND contact_id = $2 AND status = 'pending'", [list, contactID]
            ).isEmpty {
                return .notSubscribed
            }
            let created = try connection.query(
                """
                INSERT INTO sequence_enrollments (id, tenant_id, sequence_id, contact_id, state, current_step, next_run_at, entry, entered_at)
                VALUES ($1, $2, $3, $4, 'active', 0, $5, 'api', $6)
                ON CONFLICT (sequence_id, contact_id) DO NOTHING RETURNING id
                """, [UUID(), tenantID, sequenceID, contactID, SequenceDecision.firstRunAt(sequence, enteredAt: now), now])
            if let id = try created.first?.uuid("id") {
                try AuditLog.record(
                    AuditEntry(
                        tenantID: tenantID, actor: actor, action: "sequence.enrolled", target: sequenceID.lowercasedString,
                        detail: ["contact_id": contactID.lowercasedString, "enrollment_id": id.lowercasedString]),
                    on: connection)
            }
            let enrollment = try connection.query(
                "SELECT \(Self.enrollmentColumns) WHERE e.sequence_id = $1 AND e.contact_id = $2", [sequenceID, contactID]
            ).first.map(Self.enrollment(from:))!
            return .enrolled(enrollment, created: !created.isEmpty)
        }
    }

    /// A page of a sequence's enrollments in contact-id order after contact `after`,
    /// optionally in one state; nil when the tenant has no such sequence.
    public func enrollments(
        sequenceID: UUID, tenantID: UUID, state: SequenceEnrollment.State? = nil, after: UUID? = nil, limit: Int = 100
    ) async throws -> [SequenceEnrollment]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try Self.fetch(id: sequenceID, tenantID: tenantID, on: connection) != nil else { return nil }
            return try connection.query(
                """
                SELECT \(Self.enrollmentColumns)
                WHERE e.sequence_id = $1 AND e.tenant_id = $2 AND ($3::text IS NULL OR e.state = $3::text)
                  AND ($4::uuid IS NULL OR e.contact_id > $4::uuid)
                ORDER BY e.contact_id LIMIT $5
                """, [sequenceID, tenantID, state?.rawValue, after, limit]
            ).map(Self.enrollment(from:))
        }
    }

    /// Every sequence enrollment of one contact, oldest first; nil when the tenant has no such contact.
    public func enrollments(contactID: UUID, tenantID: UUID) async throws -> [SequenceEnrollment]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contacts WHERE id = $1 AND tenant_id = $2", [contactID, tenantID]).isEmpty else { return nil }
            return try connection.query(
                "SELECT \(Self.enrollmentColumns) WHERE e.contact_id = $1 AND e.tenant_id = $2 ORDER BY e.entered_at, e.id", [contactID, tenantID]
            ).map(Self.enrollment(from:))
        }
    }

    /// The select list and source of an enrollment row with its contact's address.
    static let enrollmentColumns = """
        e.id, e.tenant_id, e.sequence_id, e.contact_id, c.email, e.state, e.exit_reason, e.current_step, e.next_run_at, e.entry,
        e.entered_at, e.finished_at
        FROM sequence_enrollments e JOIN contacts c ON c.id = e.contact_id
        """

    static func enrollment(from row: PostgresRow) throws -> SequenceEnrollment {
        SequenceEnrollment(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), sequenceID: try row.uuid("sequence_id"), contactID: try row.uuid("contact_id"),
            email: try row.string("email"), state: SequenceEnrollment.State(rawValue: try row.string("state")) ?? .active,
            exitReason: row.optionalString("exit_reason").flatMap(SequenceEnrollment.ExitReason.init(rawValue:)),
            currentStep: try row.int("current_step"), nextRunAt: try row.optionalDate("next_run_at"),
            entry: SequenceEnrollment.Entry(rawValue: try row.string("entry")) ?? .api, enteredAt: try row.date("entered_at"),
            finishedAt: try row.optionalDate("finished_at"))
    }

    static func fetch(id: UUID, tenantID: UUID, on connection: PostgresConnection) throws -> DripSequence? {
        try connection.query("SELECT * FROM sequences WHERE id = $1 AND tenant_id = $2", [id, tenantID]).first.map(Self.sequence(from:))
    }

    static func sequence(from row: PostgresRow) throws -> DripSequence {
        DripSequence(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), name: try row.string("name"),
            triggerListID: row.optionalString("trigger_list_id").flatMap(UUID.init(uuidString:)),
            from: try EmailAddress(email: try row.string("from_email"), name: row.optionalString("from_name")),
            replyTo: try row.optionalString("reply_to_email").map { try EmailAddress(email: $0, name: row.optionalString("reply_to_name")) },
            trackOpens: try row.bool("track_opens"), trackClicks: try row.bool("track_clicks"),
            goal: row.optionalString("goal_event").flatMap(EventType.init(rawValue:)),
            steps: try Self.storedSteps.decode([SequenceStep].self, from: Data(try row.string("steps").utf8)), failures: try row.int("failures"),
            lastError: row.optionalString("last_error"), createdAt: try row.date("created_at"))
    }

    /// Reads stored steps leniently: fields a replica of a newer version wrote are ignored
    /// rather than failing every pass over the sequence.
    static var storedSteps: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.userInfo[.ignoresUnknownFields] = true
        return decoder
    }
}
