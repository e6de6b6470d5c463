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
        abstract: "Mailfleet administration: schema, tenants, API keys, provider accounts, status, audit log, dead letters.",
        subcommands: [Migrate.self, Tenants.self, Keys.self, Providers.self, Status.self, Audit.self, DeadLetters.self])
}

extension DatabaseOptions {
    /// Runs `body` with a one-connection pool, closing it afterwards.
    func withPool<T: Sendable>(_ body: (PostgresPool) async throws -> T) async throws -> T {
        let pool = PostgresPool(url: try databaseURL, size: 1, name: "cli-pg")
        do {
            let result = try await body(pool)
            await pool.shutdown()
            return result
        } catch {
            await pool.shutdown()
            throw error
        }
    }
}

func parseTenant(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("--tenant must be a tenant id (a UUID); `mailfleet tenants list` shows them") }
    return id
}
