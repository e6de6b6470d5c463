import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending schema migrations (idempotent; safe to run concurrently).")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let applied = try await database.withPool { try await Migrator(pool: $0).migrate() }
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}
