import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetPostgres
import MailfleetStore

/// `mailfleet`: the admin CLI.
@main
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailfleet",
        abstract: "Mailfleet administration: schema, tenants, API keys, provider accounts, webhook endpoints, contact lists and contacts, segments, campaigns, status, audit log, dead letters, messages.",
        discussion: """
            Listings print an aligned table, or with --json one JSON document (snake_case fields) for scripts; \
            hints and progress go to stderr. Exit status: 0 done, 64 wrong usage (an unknown option, a malformed \
            id), 65 the data was refused (no such tenant, a duplicate name, a value out of range), 69 Postgres or \
            Redis cannot be reached or has no schema yet, 1 anything else.
            """,
        subcommands: [Migrate.self, Tenants.self, Keys.self, Providers.self, Webhooks.self, Lists.self, Contacts.self, Segments.self, Campaigns.self, Sequences.self, Status.self, Audit.self, DeadLetters.self, Messages.self])

    /// ArgumentParser's own `main`, except that a failure it knows in words (`AdminError`) is
    /// printed as a sentence with its exit status instead of as a raw error.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            guard let failure = AdminError(error) else { exit(withError: error) }
            FileHandle.standardError.write(Data("Error: \(failure.message)\n".utf8))
            exit(withError: ExitCode(failure.exitStatus))
        }
    }
}

extension DatabaseOptions {
    /// Runs `body` with a one-connection pool, closing it afterwards. A database error comes
    /// back in words about `subject` (`AdminError`).
    func withPool<T: Sendable>(about subject: AdminError.Subject = .none, _ body: (PostgresPool) async throws -> T) async throws -> T {
        let pool = PostgresPool(url: try databaseURL, size: 1, name: "cli-pg")
        do {
            let result = try await body(pool)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw AdminError(error, about: subject) ?? error
        }
    }
}

func parseTenant(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else {
        throw ValidationError("--tenant '\(text)' is not a valid UUID (a tenant id); `mailfleet tenants list` shows them")
    }
    return id
}
