import Foundation
import MailfleetCore
import MailfleetPostgres

/// A segment filter compiled to a SQL predicate over `contacts` aliased `c`. Every value,
/// attribute name and id is a bound parameter; only the shape of the tree becomes SQL text.
/// The predicate binds the tenant (`c.tenant_id = $first`), so it can be AND-ed into any query
/// over a tenant's contacts, e.g. a campaign's recipients:
///
///     let segment = SegmentSQL.predicate(filter, tenantID: tenant, now: now, firstParameter: 3)
///     "... FROM list_members m JOIN contacts c ON c.id = m.contact_id
///      WHERE m.list_id = $1 AND m.status = 'subscribed' AND c.id > $2 AND \(segment.sql) ORDER BY c.id"
///     parameters: [listID, after] + segment.parameters
public struct SegmentSQL: Sendable {
    /// The predicate's SQL text.
    public let sql: String
    /// Its parameters, for placeholders `$firstParameter` onwards in order.
    public let parameters: [any PostgresEncodable]

    /// The `contact_activity.campaign_id` of the rows that count events of any campaign (and
    /// of messages of none): the nil UUID, since the column is part of the primary key.
    public static let anyCampaign = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// `filter` for the tenant's contacts, with `within_days` windows ending at `now`, using
    /// placeholders from `$firstParameter`.
    public static func predicate(_ filter: SegmentFilter, tenantID: UUID, now: Date, firstParameter: Int) -> SegmentSQL {
        var compiler = Compiler(next: firstParameter, now: now)
        let tenant = compiler.bind(tenantID)
        let body = compiler.compile(filter)
        return SegmentSQL(sql: "(c.tenant_id = \(tenant) AND \(body))", parameters: compiler.parameters)
    }

    private struct Compiler {
        var next: Int
        let now: Date
        var parameters: [any PostgresEncodable] = []

        mutating func bind(_ value: any PostgresEncodable) -> String {
            parameters.append(value)
            defer { next += 1 }
            return "$\(next)"
        }

        mutating func compile(_ filter: SegmentFilter) -> String {
            switch filter {
            case .all(let children):
                guard !children.isEmpty else { return "TRUE" }
                return "(" + children.map { compile($0) }.joined(separator: " AND ") + ")"
            case .any(let children):
                guard !children.isEmpty else { return "FALSE" }
                return "(" + children.map { compile($0) }.joined(separator: " OR ") + ")"
            case .not(let child):
                return "(NOT \(compile(child)))"
            case .attribute(let name, let test):
                return attribute(name, test)
            case .list(let id, let status):
                var sql = "EXISTS (SELECT 1 FROM list_members seg_m WHERE seg_m.contact_id = c.id AND seg_m.list_id = \(bind(id))::uuid"
                if let status { sql += " AND seg_m.status = \(bind(status.rawValue))::text" }
                return sql + ")"
            case .event(let type, let campaign, let withinDays):
                var sql = """
                    EXISTS (SELECT 1 FROM contact_activity seg_a WHERE seg_a.contact_id = c.id \
                    AND seg_a.type = \(bind(type.rawValue))::text AND seg_a.campaign_id = \(bind(campaign ?? SegmentSQL.anyCampaign))::uuid
                    """
                if let withinDays { sql += " AND seg_a.last_at >= \(bind(SegmentFilter.since(days: withinDays, now: now)))::timestamptz" }
                return sql + ")"
            }
        }

        /// Equality goes through `@>` so that the GIN index on attributes serves it; the other
        /// tests read the one member in a CASE on its JSON type, so a string never meets a cast
        /// and a missing member is false, never NULL (under NOT, NULL would drop the contact).
        mutating func attribute(_ name: String, _ test: SegmentFilter.AttributeTest) -> String {
            switch test {
            case .eq(let value):
                return "c.attributes @> \(bind(Self.containment(name, value)))::jsonb"
            case .ne(let value):
                return "(NOT c.attributes @> \(bind(Self.containment(name, value)))::jsonb)"
            case .in(let values):
                return "(" + values.map { "c.attributes @> \(bind(Self.containment(name, $0)))::jsonb" }.joined(separator: " OR ") + ")"
            case .exists:
                return "c.attributes ? \(bind(name))::text"
            case .contains(let text):
                let key = bind(name)
                return "(CASE WHEN jsonb_typeof(c.attributes -> \(key)::text) = 'string' THEN strpos(c.attributes ->> \(key)::text, \(bind(text))::text) > 0 ELSE false END)"
            case .gt(let bound): return compare(name, ">", bound)
            case .gte(let bound): return compare(name, ">=", bound)
            case .lt(let bound): return compare(name, "<", bound)
            case .lte(let bound): return compare(name, "<=", bound)
            }
        }

        mutating func compare(_ name: String, _ op: String, _ bound: Double) -> String {
            let key = bind(name)
            return "(CASE WHEN jsonb_typeof(c.attributes -> \(key)::text) = 'number' THEN (c.attributes ->> \(key)::text)::numeric \(op) \(bind(bound))::numeric ELSE false END)"
        }

        /// `{"name": value}` as JSON text, written by the encoder (never glued together).
        static func containment(_ name: String, _ value: JSONValue) -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            guard let data = try? encoder.encode([name: value]) else { preconditionFailure("a parsed filter holds only finite numbers") }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
