import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending schema migrations (idempotent; safe to run concurrently).",
        discussion: "Shows a progress bar on stderr when it is a terminal, a line per migration applied otherwise.")
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let bar = ProgressOutput()
        let applied = try await database.withPool { try await Migrator(pool: $0).migrate { if $0.total > 0 { bar.show($0) } } }
        if !applied.isEmpty { bar.finish() }
        print(applied.isEmpty ? "schema is up to date" : "applied migrations: \(applied.map(String.init).joined(separator: ", "))")
    }
}
