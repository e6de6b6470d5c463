import Foundation
import MailfleetPostgres
import MailfleetRedis

/// An admin operation's failure in words for the person who ran it: the thing it names and
/// what is wrong with it, instead of a raw Postgres or Redis error.
public struct AdminError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What went wrong, which decides the CLI's exit status.
    public enum Kind: Sendable, Equatable {
        /// A value the database cannot take (not a UUID, out of range, missing).
        case invalid
        /// The thing named does not exist.
        case notFound
        /// It clashes with something that exists (a duplicate name).
        case conflict
        /// Postgres or Redis cannot be reached.
        case unavailable
    }

    /// What the operation was about, so a constraint the database names can be said in words.
    public enum Subject: Sendable, Equatable {
        /// Nothing in particular.
        case none
        /// A tenant, as the user named it.
        case tenant(String)
        /// A provider account `name` of `tenant`.
        case providerAccount(name: String, tenant: String)
    }

    /// What went wrong.
    public let kind: Kind
    /// The sentence to show.
    public let message: String

    /// An error of `kind` saying `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The sentence.
    public var description: String { message }

    /// "no tenant 'x'".
    public static func noTenant(_ tenant: String) -> AdminError { AdminError(.notFound, "no tenant '\(tenant)'") }

    /// `error` in words when it is a Postgres or Redis error this knows; nil for anything else,
    /// which is shown as it is.
    public init?(_ error: any Error, about subject: Subject = .none) {
        if let known = error as? AdminError {
            self = known
        } else if let error = error as? PostgresError, let known = Self.words(for: error, about: subject) {
            self = known
        } else if let error = error as? RedisError, error.isConnectionFailure {
            self.init(.unavailable, "cannot reach Redis: \(error.message)")
        } else {
            return nil
        }
    }

    /// The sentence for a Postgres error, by its SQLSTATE; the server's messages name the
    /// column, constraint or value between double quotes.
    private static func words(for error: PostgresError, about subject: Subject) -> AdminError? {
        if error.isConnectionFailure { return AdminError(.unavailable, "cannot reach Postgres: \(error.message)") }
        let quoted = quotedParts(of: error.message)
        switch (error.sqlState, subject) {
        case ("23505", .providerAccount(let name, let tenant)):
            return AdminError(.conflict, "a provider account named '\(name)' already exists for tenant '\(tenant)'")
        case ("23505", _):
            return AdminError(.conflict, "it already exists (the database's unique rule\(rule(quoted.last)))")
        case ("23503", .tenant(let tenant)), ("23503", .providerAccount(_, let tenant)):
            return noTenant(tenant)
        case ("23503", _):
            return AdminError(.notFound, "it refers to something that does not exist (the database's rule\(rule(quoted.last)))")
        case ("23502", _):
            // null value in column "name" of relation "tenants" violates not-null constraint
            let column = quoted.first.map { "'\($0)'" } ?? "a value"
            return AdminError(.invalid, quoted.count > 1 ? "\(column) of \(quoted[1]) is required" : "\(column) is required")
        case ("23514", _):
            return AdminError(.invalid, "a value is out of range (the database's rule\(rule(quoted.last)))")
        case ("22P02", _):
            // invalid input syntax for type uuid: "abc"
            let type = error.message.components(separatedBy: "for type ").dropFirst().first?.split(separator: ":").first
            let what = type.map { $0 == "uuid" ? "a valid UUID" : "a valid \($0)" } ?? "valid"
            return AdminError(.invalid, "\(quoted.last.map { "'\($0)'" } ?? "a value") is not \(what)")
        case ("42P01", _):
            return AdminError(.unavailable, "the database has no Mailfleet schema yet (\(error.message)): run `mailfleet migrate`")
        case (let state?, _) where state.hasPrefix("22"):
            return AdminError(.invalid, "a value is not valid: \(error.message)")
        default:
            return nil
        }
    }

    /// ` 'name'` of a constraint, or nothing when the message names none.
    private static func rule(_ name: String?) -> String { name.map { " '\($0)'" } ?? "" }

    /// The parts of a server message between double quotes, in order.
    static func quotedParts(of message: String) -> [String] {
        let pieces = message.split(separator: "\"", omittingEmptySubsequences: false)
        return stride(from: 1, to: pieces.count - 1, by: 2).map { String(pieces[$0]) }
    }
}
