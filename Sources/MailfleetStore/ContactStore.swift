import Foundation
import MailfleetCore
import MailfleetPostgres

/// A tenant's contacts and their list memberships (docs/CAMPAIGNS.md "Lists and contacts").
/// Addresses come in validated and lowercased (`ContactFields`); attributes are merged on
/// every upsert. Every statement filters by tenant and runs under row-level security.
public struct ContactStore: Sendable {
    let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// A store over the same pool as `messages`.
    public init(sharingPoolOf messages: MessageStore) {
        self.pool = messages.pool
    }

    static let columns = "c.id, c.tenant_id, c.email, c.attributes::text AS attributes, c.time_zone, c.created_at, c.updated_at"

    /// Creates the contact or merges `attributes` into the existing one (a nil `timeZone`
    /// keeps the stored one); true when it was created.
    public func upsert(tenantID: UUID, email: String, attributes: [String: JSONValue], timeZone: String?) async throws -> (contact: Contact, created: Bool) {
        let json = try Self.json(attributes)
        return try await pool.tenantTransaction(tenantID) { connection in
            let row = try Self.upsert(tenantID: tenantID, email: email, attributesJSON: json, timeZone: timeZone, on: connection)
            return (try Self.contact(row), try row.bool("created"))
        }
    }

    /// One contact by id, or nil.
    public func get(tenantID: UUID, id: UUID) async throws -> Contact? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM contacts c WHERE c.id = $1 AND c.tenant_id = $2", [id, tenantID]).first.map(Self.contact)
        }
    }

    /// One contact by (stored) address, or nil.
    public func get(tenantID: UUID, email: String) async throws -> Contact? {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query("SELECT \(Self.columns) FROM contacts c WHERE c.tenant_id = $1 AND c.email = $2", [tenantID, email]).first.map(Self.contact)
        }
    }

    /// A page of contacts in address order, after the address `after`.
    public func list(tenantID: UUID, after: String? = nil, limit: Int = 100) async throws -> [Contact] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                "SELECT \(Self.columns) FROM contacts c WHERE c.tenant_id = $1 AND c.email > $2 ORDER BY c.email LIMIT $3", [tenantID, after ?? "", limit]
            ).map(Self.contact)
        }
    }

    /// Changes a contact: `attributes` merged in (a null value removes that attribute), the
    /// time zone set when `timeZone` is given (`.some(nil)` clears it). Nil when there is no such contact.
    public func update(tenantID: UUID, id: UUID, attributes: [String: JSONValue]?, timeZone: String??) async throws -> Contact? {
        let set = (attributes ?? [:]).filter { $0.value != .null }
        let removed = (attributes ?? [:]).filter { $0.value == .null }.map(\.key)
        let json = try Self.json(set)
        return try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                UPDATE contacts c SET attributes = (c.attributes || $3::jsonb) - $4::text[],
                    time_zone = CASE WHEN $5 THEN $6 ELSE c.time_zone END, updated_at = now()
                WHERE c.id = $1 AND c.tenant_id = $2 RETURNING \(Self.columns)
                """, [id, tenantID, json, removed, timeZone != nil, timeZone ?? nil]
            ).first.map(Self.contact)
        }
    }

    /// Deletes a contact and its memberships; false when there is none.
    public func delete(tenantID: UUID, id: UUID) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            try !connection.query("DELETE FROM contacts WHERE id = $1 AND tenant_id = $2 RETURNING id", [id, tenantID]).isEmpty
        }
    }

    /// A contact's memberships: list id, list name and status, by list name.
    public func memberships(tenantID: UUID, contactID: UUID) async throws -> [Membership] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT l.id, l.name, m.status FROM list_members m JOIN contact_lists l ON l.id = m.list_id
                WHERE m.contact_id = $1 AND m.tenant_id = $2 ORDER BY l.name
                """, [contactID, tenantID]
            ).map { row in
                Membership(listID: try row.uuid("id"), listName: try row.string("name"), status: try Self.status(row))
            }
        }
    }

    /// Adds the contact with `email` (created or merged like `upsert`) to a list. A new member
    /// starts as `MembershipStatus.initial` unless `status` is given; an existing member keeps
    /// its status unless `status` is given. A suppressed address is always `unsubscribed`.
    /// Nil when the tenant has no such list.
    public func addMember(
        tenantID: UUID, listID: UUID, email: String, attributes: [String: JSONValue], timeZone: String?, status: MembershipStatus?
    ) async throws -> ListMember? {
        let json = try Self.json(attributes)
        return try await pool.tenantTransaction(tenantID) { connection in
            guard let list = try connection.query(
                "SELECT double_opt_in FROM contact_lists WHERE id = $1 AND tenant_id = $2 FOR SHARE", [listID, tenantID]).first else { return nil }
            let contact = try Self.contact(try Self.upsert(tenantID: tenantID, email: email, attributesJSON: json, timeZone: timeZone, on: connection))
            let suppressed = try !connection.query("SELECT 1 FROM suppressions WHERE tenant_id = $1 AND email = $2", [tenantID, email]).isEmpty
            let doubleOptIn = try list.bool("double_opt_in")
            let initial = suppressed ? .unsubscribed : (status ?? MembershipStatus.initial(doubleOptIn: doubleOptIn, suppressed: false))
            let forced = suppressed ? MembershipStatus.unsubscribed : status
            let row = try connection.query(
                """
                INSERT INTO list_members AS m (list_id, contact_id, tenant_id, status, subscribed_at, unsubscribed_at)
                VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'subscribed' THEN now() END, CASE WHEN $4 = 'unsubscribed' THEN now() END)
                ON CONFLICT (list_id, contact_id) DO UPDATE SET status = COALESCE($5, m.status),
                    subscribed_at = CASE WHEN $5 = 'subscribed' AND m.status <> 'subscribed' THEN now() ELSE m.subscribed_at END,
                    unsubscribed_at = CASE WHEN $5 = 'unsubscribed' AND m.status <> 'unsubscribed' THEN now() ELSE m.unsubscribed_at END,
                    updated_at = CASE WHEN COALESCE($5, m.status) <> m.status THEN now() ELSE m.updated_at END
                RETURNING m.status, m.subscribed_at, m.unsubscribed_at, m.created_at
                """, [listID, contact.id, tenantID, initial.rawValue, forced?.rawValue])[0]
            return try Self.member(listID: listID, contact: contact, row)
        }
    }

    /// Sets a member's status; nil when the contact is not on the list. Subscribing a
    /// suppressed address is refused with `MemberChange.suppressed`.
    public func setStatus(tenantID: UUID, listID: UUID, contactID: UUID, status: MembershipStatus) async throws -> MemberChange {
        try await pool.tenantTransaction(tenantID) { connection in
            if status != .unsubscribed {
                let suppressed = try !connection.query(
                    "SELECT 1 FROM suppressions s JOIN contacts c ON c.email = s.email AND c.tenant_id = s.tenant_id WHERE c.id = $1 AND c.tenant_id = $2",
                    [contactID, tenantID]).isEmpty
                if suppressed { return .suppressed }
            }
            let rows = try connection.query(
                """
                UPDATE list_members m SET status = $4,
                    subscribed_at = CASE WHEN $4 = 'subscribed' AND m.status <> 'subscribed' THEN now() ELSE m.subscribed_at END,
                    unsubscribed_at = CASE WHEN $4 = 'unsubscribed' AND m.status <> 'unsubscribed' THEN now() ELSE m.unsubscribed_at END,
                    updated_at = now()
                WHERE m.list_id = $1 AND m.contact_id = $2 AND m.tenant_id = $3
                RETURNING m.status, m.subscribed_at, m.unsubscribed_at, m.created_at
                """, [listID, contactID, tenantID, status.rawValue])
            guard let row = rows.first,
                  let contact = try connection.query("SELECT \(Self.columns) FROM contacts c WHERE c.id = $1", [contactID]).first.map(Self.contact) else {
                return .notMember
            }
            return .changed(try Self.member(listID: listID, contact: contact, row))
        }
    }

    /// Takes a contact off a list (the contact stays); false when it was not on it.
    public func removeMember(tenantID: UUID, listID: UUID, contactID: UUID) async throws -> Bool {
        try await pool.tenantTransaction(tenantID) { connection in
            try !connection.query(
                "DELETE FROM list_members WHERE list_id = $1 AND contact_id = $2 AND tenant_id = $3 RETURNING contact_id", [listID, contactID, tenantID]
            ).isEmpty
        }
    }

    /// A page of a list's members in contact id order after the contact `after`, optionally of
    /// one status; nil when the tenant has no such list. Paging by the membership key keeps a
    /// million-member export to one index range scan per page. The bound is stated on the
    /// contacts side too: Postgres does not carry it across the join, and a merge join would
    /// read the contacts' key from its start on every page (a 1M-member export took minutes).
    public func members(tenantID: UUID, listID: UUID, status: MembershipStatus? = nil, after: UUID? = nil, limit: Int = 100) async throws -> [ListMember]? {
        try await pool.tenantTransaction(tenantID) { connection in
            guard try !connection.query("SELECT 1 FROM contact_lists WHERE id = $1 AND tenant_id = $2", [listID, tenantID]).isEmpty else { return nil }
            return try connection.query(
                """
                SELECT \(Self.columns), m.status, m.subscribed_at, m.unsubscribed_at, m.created_at AS member_created_at
                FROM list_members m JOIN contacts c ON c.id = m.contact_id
                WHERE m.list_id = $1 AND m.tenant_id = $2 AND m.contact_id > COALESCE($3::uuid, '00000000-0000-0000-0000-000000000000') AND ($4::text IS NULL OR m.status = $4)
                  AND c.id > COALESCE($3::uuid, '00000000-0000-0000-0000-000000000000')
                ORDER BY m.contact_id LIMIT $5
                """, [listID, tenantID, after, status?.rawValue, limit]
            ).map { row in
                try Self.member(listID: listID, contact: try Self.contact(row), row, createdColumn: "member_created_at")
            }
        }
    }

    /// The attribute names used by a list's members, sorted (an export's CSV columns).
    public func attributeNames(tenantID: UUID, listID: UUID) async throws -> [String] {
        try await pool.tenantTransaction(tenantID) { connection in
            try connection.query(
                """
                SELECT DISTINCT jsonb_object_keys(c.attributes) AS name FROM list_members m JOIN contacts c ON c.id = m.contact_id
                WHERE m.list_id = $1 AND m.tenant_id = $2 ORDER BY name
                """, [listID, tenantID]
            ).map { try $0.string("name") }
        }
    }

    static func upsert(tenantID: UUID, email: String, attributesJSON: String, timeZone: String?, on connection: PostgresConnection) throws -> PostgresRow {
        try connection.query(
            """
            INSERT INTO contacts AS c (id, tenant_id, email, attributes, time_zone) VALUES ($1, $2, $3, $4::jsonb, $5)
            ON CONFLICT (tenant_id, email) DO UPDATE SET attributes = c.attributes || EXCLUDED.attributes,
                time_zone = COALESCE(EXCLUDED.time_zone, c.time_zone), updated_at = now()
            RETURNING \(columns), (xmax = 0) AS created
            """, [UUID(), tenantID, email, attributesJSON, timeZone])[0]
    }

    static func json(_ attributes: [String: JSONValue]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(attributes), as: UTF8.self)
    }

    static func contact(_ row: PostgresRow) throws -> Contact {
        let attributes = try JSONDecoder().decode([String: JSONValue].self, from: Data(try row.string("attributes").utf8))
        return Contact(
            id: try row.uuid("id"), tenantID: try row.uuid("tenant_id"), email: try row.string("email"), attributes: attributes,
            timeZone: row.optionalString("time_zone"), createdAt: try row.date("created_at"), updatedAt: try row.date("updated_at"))
    }

    static func status(_ row: PostgresRow) throws -> MembershipStatus {
        // The column's CHECK allows only the three; reading an unknown one as unsubscribed never mails anyone.
        MembershipStatus(rawValue: try row.string("status")) ?? .unsubscribed
    }

    static func member(listID: UUID, contact: Contact, _ row: PostgresRow, createdColumn: String = "created_at") throws -> ListMember {
        ListMember(
            listID: listID, contact: contact, status: try status(row), subscribedAt: try row.optionalDate("subscribed_at"),
            unsubscribedAt: try row.optionalDate("unsubscribed_at"), createdAt: try row.date(createdColumn))
    }
}

/// A contact's place on one list, as its memberships show it.
public struct Membership: Sendable, Equatable {
    /// The list.
    public var listID: UUID
    /// The list's name.
    public var listName: String
    /// The status on it.
    public var status: MembershipStatus
}

/// What a status change did.
public enum MemberChange: Sendable, Equatable {
    /// The member, changed.
    case changed(ListMember)
    /// The contact is not on the list (or either does not exist).
    case notMember
    /// The address is suppressed, so it cannot be subscribed.
    case suppressed
}

/// What following a confirmation link did.
public enum ConfirmationOutcome: Sendable, Equatable {
    /// The pending member `email` is now subscribed.
    case confirmed(email: String)
    /// It was confirmed before (the link is followed again).
    case alreadySubscribed(email: String)
    /// The member left the list (or is suppressed) since: an old link does not bring them back.
    case unsubscribed(email: String)
    /// The contact is no longer on the list.
    case notMember
}

extension ContactStore {
    /// A store over the same pool as `suppressions` (the tracker's).
    public init(sharingPoolOf suppressions: SuppressionStore) {
        self.init(pool: suppressions.pool)
    }

    /// Confirms a pending member (double opt-in); following the link again changes nothing.
    public func confirm(tenantID: UUID, listID: UUID, contactID: UUID) async throws -> ConfirmationOutcome {
        try await pool.tenantTransaction(tenantID) { connection in
            let rows = try connection.query(
                """
                SELECT m.status, c.email, EXISTS (SELECT 1 FROM suppressions s WHERE s.tenant_id = c.tenant_id AND s.email = c.email) AS suppressed
                FROM list_members m JOIN contacts c ON c.id = m.contact_id
                WHERE m.list_id = $1 AND m.contact_id = $2 AND m.tenant_id = $3 FOR UPDATE OF m
                """, [listID, contactID, tenantID])
            guard let row = rows.first else { return .notMember }
            let email = try row.string("email")
            switch try Self.status(row) {
            case .subscribed: return .alreadySubscribed(email: email)
            case .unsubscribed: return .unsubscribed(email: email)
            case .pending:
                if try row.bool("suppressed") { return .unsubscribed(email: email) }
                try connection.query(
                    "UPDATE list_members SET status = 'subscribed', subscribed_at = now(), updated_at = now() WHERE list_id = $1 AND contact_id = $2 AND tenant_id = $3",
                    [listID, contactID, tenantID])
                return .confirmed(email: email)
            }
        }
    }
}
