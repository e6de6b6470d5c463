import Foundation
import MailfleetPostgres

/// One SQL predicate over a campaign's candidate recipients: the contacts table aliased `c`
/// (a segment, compiled). Its placeholders are numbered from `$1` among its own `parameters`;
/// the recipient query renumbers them after its own, so it must hold no other `$`.
public struct RecipientFilter: Sendable {
    /// A boolean SQL expression over `c` (e.g. `c.attributes->>'country' = $1`).
    public var sql: String
    /// The values of its placeholders, in order.
    public var parameters: [any PostgresEncodable]

    /// Creates a filter.
    public init(sql: String, parameters: [any PostgresEncodable]) {
        self.sql = sql
        self.parameters = parameters
    }

    /// The predicate with its placeholders moved up by `offset` (`$1` becomes `$(1+offset)`).
    func sql(shiftedBy offset: Int) -> String {
        var out = ""
        var rest = Substring(sql)
        while let dollar = rest.firstIndex(of: "$") {
            out += rest[..<dollar]
            let digits = rest[rest.index(after: dollar)...].prefix { $0.isASCII && $0.isNumber }
            if let number = Int(digits) {
                out += "$\(number + offset)"
            } else {
                out += "$"
            }
            rest = rest[rest.index(after: dollar)...].dropFirst(digits.count)
        }
        return out + rest
    }
}
