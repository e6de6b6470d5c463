import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage API keys.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an API key and print it (shown once; only its hash is stored).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Comma-separated scopes: send, read, admin.") var scopes = "send,read"

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            var parsed: [APIScope] = []
            for name in scopes.split(separator: ",") {
                guard let scope = APIScope(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown scope \(name); scopes are send, read, admin")
                }
                parsed.append(scope)
            }
            let key = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.uuidString.lowercased())") }
                return try await store.createKey(tenantID: tenantID, scopes: parsed)
            }
            print(key.plaintext)
        }
    }
}
