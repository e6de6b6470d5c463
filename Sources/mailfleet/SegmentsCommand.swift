import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Segments: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's segments (filters over contacts' attributes, lists and events) and count who they match.",
        subcommands: [Create.self, List.self, Show.self, Count.self, Delete.self])

    /// A segment as `--json` prints it.
    struct Row: Encodable {
        var id: String
        var name: String
        var filter: SegmentFilter
        var createdAt: Date
        var updatedAt: Date

        init(_ segment: Segment) {
            id = segment.id.lowercasedString
            name = segment.name
            filter = segment.filter
            createdAt = segment.createdAt
            updatedAt = segment.updatedAt
        }
    }

    /// A count as `--json` prints it.
    struct Counted: Encodable {
        var count: Int
        var sample: [String]
    }

    /// The common options naming one segment.
    struct SegmentOptions: ParsableArguments {
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Segment id.") var id: String

        func parsed() throws -> (tenant: UUID, segment: UUID) {
            guard let segment = UUID(uuidString: id) else { throw ValidationError("--id '\(id)' is not a valid UUID (a segment id); `mailfleet segments list` shows them") }
            return (try parseTenant(tenant), segment)
        }
    }

    /// A filter given as JSON text, or as `@path` to a file holding it.
    static func filter(_ text: String) throws -> SegmentFilter {
        var json = text
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("--filter: cannot read \(path)") }
            json = String(decoding: data, as: UTF8.self)
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        } catch {
            throw ValidationError("--filter is not valid JSON")
        }
        do {
            return try SegmentFilter(json: value)
        } catch {
            throw ValidationError("--filter: \(error.message)")
        }
    }

    static func filterText(_ filter: SegmentFilter) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? String(decoding: encoder.encode(filter), as: UTF8.self)) ?? "?"
    }

    static func printSegment(_ segment: Segment, output: OutputOptions) throws {
        let row = Row(segment)
        if output.json { return try output.printJSON(row) }
        var table = TextTable([.left("FIELD"), .left("VALUE")])
        table.append(["id", row.id])
        table.append(["name", row.name])
        table.append(["filter", filterText(row.filter)])
        table.append(["created", TextTable.time(row.createdAt)])
        table.append(["updated", TextTable.time(row.updatedAt)])
        FileHandle.standardOutput.write(Data(table.text.utf8))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Store a named segment and print it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "A name unique within the tenant.") var name: String
        @Option(help: #"The filter as JSON, e.g. '{"attribute":"country","op":"eq","value":"DE"}', or @file."#) var filter: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            if let problem = Segment.problem(withName: name) { throw ValidationError("--name: \(problem)") }
            let parsed = try Segments.filter(filter)
            let written = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await SegmentStore(pool: pool).create(tenantID: tenantID, name: name, filter: parsed, actor: cliActor())
            }
            guard case .saved(let segment) = written else { throw AdminError(.conflict, "tenant '\(tenant)' already has a segment named '\(name)'") }
            try Segments.printSegment(segment, output: output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's segments in name order.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let segments = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await SegmentStore(pool: pool).list(tenantID: tenantID, limit: 1000)
            }
            let rows = segments.map { Row($0) }
            try output.print(rows, empty: "tenant '\(tenant)' has no segments") {
                var table = TextTable([.left("ID"), .left("NAME"), .left("FILTER")])
                for row in rows { table.append([row.id, row.name, Segments.filterText(row.filter)]) }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one segment with its filter.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var segment: SegmentOptions

        func run() async throws {
            let ids = try segment.parsed()
            let found = try await database.withPool(about: .tenant(segment.tenant)) { try await SegmentStore(pool: $0).get(tenantID: ids.tenant, id: ids.segment) }
            guard let found else { throw AdminError(.notFound, "tenant '\(segment.tenant)' has no segment '\(segment.id)'") }
            try Segments.printSegment(found, output: output)
        }
    }

    struct Count: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Count who a stored segment (--id) or a filter (--filter) matches now, with the first 10 addresses.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "A stored segment's id.") var id: String?
        @Option(help: "A filter as JSON, or @file, instead of a stored segment.") var filter: String?
        @Option(help: "Count only this list's subscribed members.") var list: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard (id == nil) != (filter == nil) else { throw ValidationError("give either --id or --filter") }
            let given = try filter.map(Segments.filter)
            let segmentID = try id.map { text in
                guard let id = UUID(uuidString: text) else { throw ValidationError("--id '\(text)' is not a valid UUID (a segment id)") }
                return id
            }
            let listID = try list.map { text in
                guard let id = UUID(uuidString: text) else { throw ValidationError("--list '\(text)' is not a valid UUID (a list id)") }
                return id
            }
            let preview = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                let store = SegmentStore(pool: pool)
                var chosen = given
                if let segmentID {
                    guard let segment = try await store.get(tenantID: tenantID, id: segmentID) else {
                        throw AdminError(.notFound, "tenant '\(tenant)' has no segment '\(segmentID.lowercasedString)'")
                    }
                    chosen = segment.filter
                }
                return try await store.preview(tenantID: tenantID, filter: chosen ?? .all([]), listID: listID)
            }
            let counted = Counted(count: preview.count, sample: preview.sample)
            if output.json { return try output.printJSON(counted) }
            var table = TextTable([.left("FIELD"), .left("VALUE")])
            table.append(["count", String(counted.count)])
            table.append(["sample", counted.sample.isEmpty ? "-" : counted.sample.joined(separator: ", ")])
            FileHandle.standardOutput.write(Data(table.text.utf8))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a segment.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var segment: SegmentOptions

        func run() async throws {
            let ids = try segment.parsed()
            let deleted = try await database.withPool(about: .tenant(segment.tenant)) {
                try await SegmentStore(pool: $0).delete(tenantID: ids.tenant, id: ids.segment, actor: cliActor())
            }
            guard deleted else { throw AdminError(.notFound, "tenant '\(segment.tenant)' has no segment '\(segment.id)'") }
            print("deleted \(segment.id)")
        }
    }
}
