import Foundation
import MailfleetCore
import MailfleetPostgres

/// Keeps `messages` and `events` to their retention (docs/ARCHITECTURE.md, "Partitions and
/// retention"): makes the coming days' partitions, drops a day's partitions once every message
/// in them is past the retention, and deletes row by row only what a whole partition cannot
/// cover: a tenant's messages under its shorter retention, and the rows of the catch-all
/// partitions. `MessageRetention` decides; this runs it, as the table owner (the scheduler's
/// leader), with every time taken from `now` so a test can run it at any date.
public struct RetentionStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// What one pass did.
    public struct Pass: Sendable, Equatable {
        /// Day partitions made (of `messages`, with their `events` twins).
        public var made: [Date] = []
        /// Day partitions dropped, with their events.
        public var dropped: [Date] = []
        /// Days past the retention kept because a message in them is still owed work (queued,
        /// or in a campaign still running); they go on a later pass, once it is done.
        public var held: [Date] = []
        /// Days to make or drop whose tables' lock was not had within `lockTimeout` (a long
        /// query held it), or that another pass made meanwhile; the next pass tries again.
        public var busy: [Date] = []
        /// Messages deleted row by row (their events with them).
        public var deletedMessages = 0
        /// Events deleted row by row from the catch-all partitions.
        public var deletedEvents = 0

        /// An empty pass.
        public init() {}
    }

    /// The catch-all partitions: ids older than the first day partition, random (v4) ids, and
    /// ids no day partition holds. Their rows are deleted one by one.
    static let catchAll = ["before", "legacy", "default"]
    /// Rows per delete statement.
    static let chunk = 5000
    /// A make or a drop waits this long for each table's lock, then gives up until the next pass.
    static let lockTimeout = "1s"

    /// Errors after which a day is left for the next pass: a lock not had in time (55P03), a
    /// deadlock with a transaction that locked `events` before `messages` (40P01), or another
    /// pass (a leader that lost its lease finishing one) having made (42P07) or dropped (42P01)
    /// the same day meanwhile.
    static func tryLater(_ error: PostgresError) -> Bool {
        ["55P03", "40P01", "42P07", "42P01"].contains(error.sqlState ?? "")
    }

    /// The days that have partitions now.
    public func days() async throws -> Set<Date> {
        let rows = try await pool.query(
            """
            SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
            WHERE i.inhparent = 'messages'::regclass
            """)
        return Set(try rows.compactMap { row in
            let name = try row.string("relname")
            return name.hasPrefix("messages_") ? MessageRetention.day(suffix: String(name.dropFirst("messages_".count))) : nil
        })
    }

    /// One pass: make the coming days, drop the expired ones (or hold them), then the row
    /// deletes. Each step commits on its own; a pass killed halfway leaves nothing half done.
    public func pass(_ retention: MessageRetention, now: Date = Date()) async throws -> Pass {
        var pass = Pass()
        let existing = try await days()
        for day in retention.missing(existing: existing, now: now) {
            do {
                if try await make(day) { pass.made.append(day) }
            } catch let error as PostgresError where Self.tryLater(error) {
                pass.busy.append(day)
            }
        }
        for day in retention.expired(existing: existing, now: now) {
            do {
                if try await drop(day) { pass.dropped.append(day) } else { pass.held.append(day) }
            } catch let error as PostgresError where Self.tryLater(error) {
                pass.busy.append(day)
            }
        }
        // Row by row: every tenant's rows in the catch-all partitions (those with rows: in a
        // database that was never upgraded they are empty), and all the rows of a tenant whose
        // own retention is shorter. Each by the tenant's indexes, by time.
        var occupied: [String] = []
        for table in Self.catchAll.flatMap({ ["messages_\($0)", "events_\($0)"] })
        where try await pool.query("SELECT EXISTS (SELECT 1 FROM \(table)) AS found").first?.bool("found") == true {
            occupied.append(table)
        }
        for tenant in try await pool.query("SELECT id, retention_days FROM tenants") {
            let id = try tenant.uuid("id")
            let own = tenant.optionalString("retention_days").flatMap { Int($0) }
            let cutoff = MessageRetention.cutoff(days: retention.days(forTenant: own), now: now)
            let everywhere = retention.days(forTenant: own) < retention.days
            for table in everywhere ? ["messages"] : occupied.filter({ $0.hasPrefix("messages_") }) {
                pass.deletedMessages += try await deleteMessages(in: table, tenantID: id, before: cutoff)
            }
            for table in everywhere ? ["events"] : occupied.filter({ $0.hasPrefix("events_") }) {
                pass.deletedEvents += try await deleteEvents(in: table, tenantID: id, before: cutoff)
            }
        }
        return pass
    }

    /// Makes `day`'s partitions unless they exist; true when it made them.
    func make(_ day: Date) async throws -> Bool {
        try await pool.transaction { connection in
            try connection.execute("SET LOCAL lock_timeout = '\(Self.lockTimeout)'")
            return try connection.query("SELECT mailfleet_day_partition($1::date) AS made", [QuotaPeriod.daily.key(of: day)])
                .first?.bool("made") ?? false
        }
    }

    /// Drops `day`'s partitions of `messages` and `events` unless a message in them is still
    /// owed work; true when it dropped them. The check runs first without a lock, then again
    /// under both tables' exclusive lock (no re-drive can make a row `queued` in between), so
    /// the fleet waits only for a drop that happens.
    ///
    /// Owed work, here for any row of the day (by the indexes) and in `deletableRow` for one row: a
    /// message `queued` (or shown `sending`); one of a campaign not yet done or cancelled (an
    /// A/B test's winner pass reads who already had a message); one of an active drip-sequence
    /// enrollment (its next steps read the earlier messages' events).
    func drop(_ day: Date) async throws -> Bool {
        let suffix = MessageRetention.suffix(of: day), key = QuotaPeriod.daily.key(of: day)
        let owed = """
            SELECT EXISTS (SELECT 1 FROM messages_\(suffix) WHERE status IN ('queued', 'sending'))
                OR EXISTS (SELECT 1 FROM messages_\(suffix) m JOIN campaigns k ON k.id = m.campaign_id
                           WHERE m.campaign_id IS NOT NULL AND k.state NOT IN ('done', 'cancelled'))
                OR EXISTS (SELECT 1 FROM sequence_enrollments e JOIN sequence_messages s ON s.enrollment_id = e.id
                           WHERE e.state = 'active' AND s.message_id >= mailfleet_day_bound('\(key)'::date)
                             AND s.message_id < mailfleet_day_bound('\(key)'::date + 1)) AS owed
            """
        guard try await pool.query(owed).first?.bool("owed") == false else { return false }
        return try await pool.transaction { connection in
            try connection.execute("SET LOCAL lock_timeout = '\(Self.lockTimeout)'")
            try connection.execute("LOCK TABLE messages, events IN ACCESS EXCLUSIVE MODE")
            guard try connection.query(owed).first?.bool("owed") == false else { return false }
            try connection.execute("DROP TABLE IF EXISTS messages_\(suffix), events_\(suffix)")
            return true
        }
    }

    /// A message row `m` not owed work (see `drop`): what the row deletes may take.
    static let deletableRow = """
        m.status NOT IN ('queued', 'sending')
          AND (m.campaign_id IS NULL OR NOT EXISTS (
              SELECT 1 FROM campaigns k WHERE k.id = m.campaign_id AND k.state NOT IN ('done', 'cancelled')))
          AND NOT EXISTS (
              SELECT 1 FROM sequence_messages s JOIN sequence_enrollments e ON e.id = s.enrollment_id
              WHERE s.message_id = m.id AND e.state = 'active')
        """

    /// Deletes a tenant's finished messages made before `cutoff` from `table` (`messages` or
    /// one partition), with their events, a chunk per statement. Dead letters go by this rule
    /// too (a dead letter is a message).
    func deleteMessages(in table: String, tenantID: UUID, before cutoff: Date) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await pool.query(
                """
                WITH doomed AS (
                    SELECT m.id FROM \(table) m
                    WHERE m.tenant_id = $1 AND m.created_at < $2 AND \(Self.deletableRow)
                    LIMIT $3 FOR UPDATE SKIP LOCKED
                ), events_gone AS (
                    DELETE FROM events e WHERE e.message_id = ANY (ARRAY(SELECT id FROM doomed))
                )
                DELETE FROM messages WHERE id = ANY (ARRAY(SELECT id FROM doomed))
                """, [tenantID, cutoff, Self.chunk]).affectedRows
            deleted += count
            if count < Self.chunk { return deleted }
        }
    }

    /// Deletes a tenant's events that occurred before `cutoff` and whose message is gone, from
    /// `table` (`events` or a catch-all partition of it). An open or a click that came after its
    /// message was deleted lands in its day's partition, or in `events_default` once the day
    /// was dropped; it goes by its own time. Events of a message still kept stay with it (the
    /// campaign counts and the history read them). An event id is unique on its own; the
    /// message ids only pick the partitions.
    func deleteEvents(in table: String, tenantID: UUID, before cutoff: Date) async throws -> Int {
        var deleted = 0
        while true {
            let count = try await pool.query(
                """
                WITH doomed AS MATERIALIZED (
                    SELECT e.id, e.message_id FROM \(table) e
                    WHERE e.tenant_id = $1 AND e.occurred_at < $2 AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id)
                    LIMIT $3)
                DELETE FROM \(table) WHERE message_id = ANY (ARRAY(SELECT message_id FROM doomed)) AND id = ANY (ARRAY(SELECT id FROM doomed))
                """, [tenantID, cutoff, Self.chunk]).affectedRows
            deleted += count
            if count < Self.chunk { return deleted }
        }
    }
}
