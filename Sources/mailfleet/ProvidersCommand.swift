import ArgumentParser
import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

struct Providers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Manage a tenant's provider accounts (its ordered chain).", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a provider account to a tenant's chain.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "A name unique within the tenant.") var name: String
        @Option(help: "Provider kind: \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", ")).") var kind: String
        @Option(help: "Endpoint override (a simulator or gateway URL).") var endpoint: String?
        @Option(help: "Position in the chain; lower goes first.") var priority = 100
        @Option(help: "A file holding the account's secret (API key); read, never echoed.") var secretFile: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let kind = ProviderKind(rawValue: kind) else {
                throw ValidationError("unknown kind \(kind); kinds are \(ProviderKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var secret: String?
            if let secretFile {
                guard let text = try? String(contentsOfFile: secretFile, encoding: .utf8) else { throw ValidationError("cannot read \(secretFile)") }
                secret = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let account = try await database.withPool { pool in
                let store = TenantStore(pool: pool)
                guard try await store.tenantExists(tenantID) else { throw ValidationError("no tenant \(tenantID.uuidString.lowercased())") }
                return try await store.addProviderAccount(tenantID: tenantID, name: name, kind: kind, endpoint: endpoint, priority: priority, secret: secret)
            }
            print(account.id.uuidString.lowercased())
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's chain (secrets are never shown).")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let chain = try await database.withPool { try await TenantStore(pool: $0).providerChain(tenantID: tenantID) }
            for account in chain {
                print("\(account.priority)\t\(account.id.uuidString.lowercased())\t\(account.name)\t\(account.kind.rawValue)\t\(account.endpoint ?? "-")\t\(account.secret == nil ? "no secret" : "secret set")")
            }
        }
    }
}
