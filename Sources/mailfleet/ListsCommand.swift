import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Lists: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's contact lists (docs/CAMPAIGNS.md); `mailfleet contacts` manages their members, imports and exports.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Delete.self, Members.self])

    /// A list as `--json` prints it.
    struct Row: Encodable {
        var id: String
        var name: String
        var doubleOptIn: Bool
        var members: MemberCounts
        var createdAt: Date

        init(_ list: ContactList) {
            id = list.id.lowercasedString
            name = list.name
            doubleOptIn = list.doubleOptIn
            members = list.counts
            createdAt = list.createdAt
        }
    }

    /// The options naming one list.
    struct ListOptions: ParsableArguments {
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "List id.") var id: String

        func parsed() throws -> (tenant: UUID, list: UUID) {
            (try parseTenant(tenant), try parseList(id, option: "--id"))
        }
    }

    static func table(_ rows: [Row]) -> TextTable {
        var table = TextTable([.left("ID"), .left("NAME"), .left("DOUBLE OPT-IN"), .right("SUBSCRIBED"), .right("PENDING"), .right("UNSUBSCRIBED")])
        for row in rows {
            table.append([row.id, row.name, row.doubleOptIn ? "yes" : "no", "\(row.members.subscribed)", "\(row.members.pending)", "\(row.members.unsubscribed)"])
        }
        return table
    }

    static func checkedName(_ name: String) throws -> String {
        do {
            return try ContactList.validName(name)
        } catch {
            throw ValidationError("--name: \(error.message)")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a list.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The list's name (unique per tenant).") var name: String
        @Flag(help: "New members are pending until they follow their confirmation link.") var doubleOptIn = false

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let name = try Lists.checkedName(self.name)
            let list = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await ContactListStore(pool: pool).create(tenantID: tenantID, name: name, doubleOptIn: doubleOptIn, actor: cliActor())
            }
            let row = Row(list)
            try output.print(row, empty: "") { Lists.table([row]) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's lists by name, with member counts.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let lists = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                var all: [ContactList] = []
                var after: String?
                while true {
                    let page = try await ContactListStore(pool: pool).list(tenantID: tenantID, after: after, limit: 1000)
                    all += page
                    guard page.count == 1000 else { return all }
                    after = page.last?.name
                }
            }
            let rows = lists.map(Row.init)
            try output.print(rows, empty: "tenant '\(tenant)' has no lists") { Lists.table(rows) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one list with its member counts.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var list: ListOptions

        func run() async throws {
            let ids = try list.parsed()
            guard let found = try await database.withPool(about: .tenant(list.tenant), { try await ContactListStore(pool: $0).get(tenantID: ids.tenant, id: ids.list) }) else {
                throw AdminError(.notFound, "tenant '\(list.tenant)' has no list '\(list.id)'")
            }
            let row = Row(found)
            try output.print(row, empty: "") { Lists.table([row]) }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rename a list or turn double opt-in on or off.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var list: ListOptions
        @Option(help: "A new name.") var name: String?
        @Option(help: "true or false.") var doubleOptIn: Bool?

        func run() async throws {
            let ids = try list.parsed()
            let name = try self.name.map(Lists.checkedName)
            guard name != nil || doubleOptIn != nil else { throw ValidationError("give --name or --double-opt-in") }
            guard let found = try await database.withPool(about: .tenant(list.tenant), {
                try await ContactListStore(pool: $0).update(tenantID: ids.tenant, id: ids.list, name: name, doubleOptIn: doubleOptIn, actor: cliActor())
            }) else {
                throw AdminError(.notFound, "tenant '\(list.tenant)' has no list '\(list.id)'")
            }
            let row = Row(found)
            try output.print(row, empty: "") { Lists.table([row]) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a list and its memberships (the contacts stay).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var list: ListOptions

        func run() async throws {
            let ids = try list.parsed()
            guard try await database.withPool(about: .tenant(list.tenant), {
                try await ContactListStore(pool: $0).delete(tenantID: ids.tenant, id: ids.list, actor: cliActor())
            }) else {
                throw AdminError(.notFound, "tenant '\(list.tenant)' has no list '\(list.id)'")
            }
            FileHandle.standardError.write(Data("deleted list \(ids.list.lowercasedString)\n".utf8))
        }
    }

    struct Members: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a list's members (up to --limit), optionally of one status.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var list: ListOptions
        @Option(help: "pending, subscribed or unsubscribed.") var status: String?
        @Option(help: "Most members shown (1 to 1000).") var limit = 100

        struct MemberRow: Encodable {
            var contactId: String
            var email: String
            var status: String
            var timeZone: String?
            var createdAt: Date
        }

        func run() async throws {
            let ids = try list.parsed()
            let status = try self.status.map { text in
                guard let status = MembershipStatus(rawValue: text) else { throw ValidationError("--status is pending, subscribed or unsubscribed") }
                return status
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            guard let members = try await database.withPool(about: .tenant(list.tenant), {
                try await ContactStore(pool: $0).members(tenantID: ids.tenant, listID: ids.list, status: status, limit: limit)
            }) else {
                throw AdminError(.notFound, "tenant '\(list.tenant)' has no list '\(list.id)'")
            }
            let rows = members.map {
                MemberRow(contactId: $0.contact.id.lowercasedString, email: $0.contact.email, status: $0.status.rawValue, timeZone: $0.contact.timeZone, createdAt: $0.createdAt)
            }
            try output.print(rows, empty: "the list has no such members") {
                var table = TextTable([.left("CONTACT"), .left("EMAIL"), .left("STATUS"), .left("TIME ZONE"), .left("ADDED")])
                for row in rows { table.append([row.contactId, row.email, row.status, row.timeZone ?? "-", TextTable.time(row.createdAt)]) }
                return table
            }
        }
    }
}

func parseList(_ text: String, option: String = "--list") throws -> UUID {
    guard let id = UUID(uuidString: text) else {
        throw ValidationError("\(option) '\(text)' is not a valid UUID (a list id); `mailfleet lists list` shows them")
    }
    return id
}
