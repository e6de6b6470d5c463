import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Contacts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's contacts: add to lists, show, delete, import a CSV or NDJSON file into a list, export a list.",
        subcommands: [Add.self, Show.self, Delete.self, Import.self, Errors.self, Export.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create or update a contact (attributes merged), optionally adding it to a list.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The address.") var email: String
        @Option(name: .customLong("attribute"), help: "An attribute as name=value (repeatable).") var attributes: [String] = []
        @Option(help: "An IANA time zone such as Europe/Berlin.") var timeZone: String?
        @Option(help: "A list id to add the contact to.") var list: String?
        @Option(help: "The member's status on --list (pending, subscribed, unsubscribed); by default the list's rule.") var status: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let listID = try list.map { try parseList($0) }
            let status = try self.status.map { text in
                guard let status = MembershipStatus(rawValue: text) else { throw ValidationError("--status is pending, subscribed or unsubscribed") }
                return status
            }
            var given: [String: JSONValue] = [:]
            for pair in attributes {
                guard let equals = pair.firstIndex(of: "=") else { throw ValidationError("--attribute '\(pair)' is not name=value") }
                given[String(pair[..<equals])] = .string(String(pair[pair.index(after: equals)...]))
            }
            let fields: (String, [String: JSONValue], String?)
            do {
                fields = (try ContactFields.address(email), try ContactFields.attributes(given), try ContactFields.timeZone(timeZone))
            } catch {
                throw ValidationError("--\(error.field == "email" ? "email" : error.field == "time_zone" ? "time-zone" : "attribute"): \(error.message)")
            }
            let (contact, memberStatus) = try await database.withPool(about: .tenant(tenant)) { pool -> (Contact, MembershipStatus?) in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                let store = ContactStore(pool: pool)
                guard let listID else { return (try await store.upsert(tenantID: tenantID, email: fields.0, attributes: fields.1, timeZone: fields.2).contact, nil) }
                guard let member = try await store.addMember(
                    tenantID: tenantID, listID: listID, email: fields.0, attributes: fields.1, timeZone: fields.2, status: status) else {
                    throw AdminError(.notFound, "tenant '\(tenant)' has no list '\(list ?? "")'")
                }
                return (member.contact, member.status)
            }
            try Contacts.print(contact, status: memberStatus, output: output)
        }
    }

    /// A contact as `--json` prints it.
    struct Row: Encodable {
        var id: String
        var email: String
        var attributes: [String: JSONValue]
        var timeZone: String?
        var status: String?
        var lists: [ListRow]?
        var createdAt: Date

        struct ListRow: Encodable {
            var listId: String
            var name: String
            var status: String
        }
    }

    static func print(_ contact: Contact, status: MembershipStatus? = nil, memberships: [Membership]? = nil, output: OutputOptions) throws {
        let row = Row(
            id: contact.id.lowercasedString, email: contact.email, attributes: contact.attributes, timeZone: contact.timeZone, status: status?.rawValue,
            lists: memberships?.map { Row.ListRow(listId: $0.listID.lowercasedString, name: $0.listName, status: $0.status.rawValue) }, createdAt: contact.createdAt)
        if output.json { return try output.printJSON(row) }
        var table = TextTable([.left("FIELD"), .left("VALUE")])
        table.append(["id", row.id])
        table.append(["email", row.email])
        table.append(["time zone", row.timeZone ?? "-"])
        for (name, value) in row.attributes.sorted(by: { $0.key < $1.key }) {
            let text: String
            if case .string(let string) = value { text = string } else { text = String(decoding: (try? JSONEncoder().encode(value)) ?? Data(), as: UTF8.self) }
            table.append(["attribute \(name)", text])
        }
        if let status = row.status { table.append(["status", status]) }
        for list in row.lists ?? [] { table.append(["list \(list.name)", "\(list.status) (\(list.listId))"]) }
        table.append(["created", TextTable.time(row.createdAt)])
        FileHandle.standardOutput.write(Data(table.text.utf8))
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a contact by address, with its lists.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The address.") var email: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let address = (try? ContactFields.address(email)) ?? email.lowercased()
            let found = try await database.withPool(about: .tenant(tenant)) { pool -> (Contact, [Membership])? in
                let store = ContactStore(pool: pool)
                guard let contact = try await store.get(tenantID: tenantID, email: address) else { return nil }
                return (contact, try await store.memberships(tenantID: tenantID, contactID: contact.id))
            }
            guard let found else { throw AdminError(.notFound, "tenant '\(tenant)' has no contact '\(email)'") }
            try Contacts.print(found.0, memberships: found.1, output: output)
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a contact and its memberships.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The address.") var email: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let address = (try? ContactFields.address(email)) ?? email.lowercased()
            let deleted = try await database.withPool(about: .tenant(tenant)) { pool -> Bool in
                let store = ContactStore(pool: pool)
                guard let contact = try await store.get(tenantID: tenantID, email: address) else { return false }
                return try await store.delete(tenantID: tenantID, id: contact.id)
            }
            guard deleted else { throw AdminError(.notFound, "tenant '\(tenant)' has no contact '\(email)'") }
            FileHandle.standardError.write(Data("deleted contact \(address)\n".utf8))
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a CSV (header row with an email column) or NDJSON file into a list, streamed in batches.",
            discussion: """
                Rows are written a batch at a time, so memory does not grow with the file; a progress bar shows on a \
                terminal. Refused rows are kept with their line numbers (`mailfleet contacts errors`). Running a file \
                again after an interruption converges: existing contacts are updated, never duplicated.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "List id.") var list: String
        @Option(help: "csv or ndjson; by default from the file name (.csv, .ndjson/.jsonl).") var format: String?
        @Argument(help: "The file to import.") var file: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let listID = try parseList(list)
            let format = try Import.format(format, file: file)
            guard let handle = FileHandle(forReadingAtPath: file) else { throw ValidationError("cannot read '\(file)'") }
            defer { try? handle.close() }
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            let progress = ProgressOutput()
            let record = try await database.withPool(about: .tenant(tenant)) { pool -> ContactImport in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                var importer: ContactImporter
                do {
                    importer = try await ContactImporter(store: ContactImportStore(pool: pool), tenantID: tenantID, listID: listID, format: format, actor: cliActor())
                } catch ContactImporter.Failure.noList {
                    throw AdminError(.notFound, "tenant '\(tenant)' has no list '\(list)'")
                }
                var step = WorkProgress(total: size, step: "batch", verb: "bytes read")
                do {
                    while let chunk = try handle.read(upToCount: 256 * 1024), !chunk.isEmpty {
                        let wrote = try await importer.feed(chunk)
                        step.advance(by: chunk.count)
                        if wrote != nil { progress.show(step) }
                    }
                    let done = try await importer.finish()
                    progress.show(step)
                    progress.finish()
                    return done
                } catch ContactImporter.Failure.file(let problem) {
                    progress.finish()
                    throw AdminError(.invalid, "\(file): \(problem.message); nothing was imported")
                } catch {
                    progress.finish()
                    await importer.abandon()
                    throw error
                }
            }
            try Import.printRecord(record, output: output)
            if record.counts.rejected > 0 {
                FileHandle.standardError.write(Data(
                    "\(record.counts.rejected) rows were refused: mailfleet contacts errors --tenant \(tenant) --import \(record.id.lowercasedString)\n".utf8))
            }
        }

        static func format(_ given: String?, file: String) throws -> ContactFileFormat {
            if let given {
                guard let format = ContactFileFormat(rawValue: given) else { throw ValidationError("--format is csv or ndjson") }
                return format
            }
            switch URL(fileURLWithPath: file).pathExtension.lowercased() {
            case "csv": return .csv
            case "ndjson", "jsonl": return .ndjson
            default: throw ValidationError("cannot tell the format of '\(file)' from its name: give --format csv or --format ndjson")
            }
        }

        /// An import as `--json` prints it.
        struct RecordRow: Encodable {
            var id: String
            var listId: String
            var state: String
            var counts: ContactImportCounts
            var createdAt: Date
            var finishedAt: Date?
        }

        static func printRecord(_ record: ContactImport, output: OutputOptions) throws {
            let row = RecordRow(
                id: record.id.lowercasedString, listId: record.listID.lowercasedString, state: record.state.rawValue, counts: record.counts,
                createdAt: record.createdAt, finishedAt: record.finishedAt)
            try output.print(row, empty: "") {
                var table = TextTable([.left("IMPORT"), .left("STATE"), .right("READ"), .right("IMPORTED"), .right("UPDATED"), .right("REJECTED"), .right("SUPPRESSED"), .right("DUPLICATES")])
                let c = record.counts
                table.append([row.id, row.state, "\(c.read)", "\(c.imported)", "\(c.updated)", "\(c.rejected)", "\(c.suppressed)", "\(c.duplicates)"])
                return table
            }
        }
    }

    struct Errors: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an import's refused rows by line number.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(name: .customLong("import"), help: "Import id.") var importID: String
        @Option(help: "Most rows shown (1 to 1000).") var limit = 100

        struct ErrorRow: Encodable {
            var line: Int
            var reason: String
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let id = UUID(uuidString: importID) else { throw ValidationError("--import '\(importID)' is not a valid UUID (an import id)") }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            guard let rows = try await database.withPool(about: .tenant(tenant), {
                try await ContactImportStore(pool: $0).errors(tenantID: tenantID, importID: id, limit: limit)
            }) else {
                throw AdminError(.notFound, "tenant '\(tenant)' has no import '\(importID)'")
            }
            let shown = rows.map { ErrorRow(line: $0.line, reason: $0.reason) }
            try output.print(shown, empty: "the import refused no rows") {
                var table = TextTable([.right("LINE"), .left("REASON")])
                for row in shown { table.append(["\(row.line)", row.reason]) }
                return table
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Export a list's members as CSV or NDJSON, streamed a page at a time.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "List id.") var list: String
        @Option(help: "csv or ndjson.") var format = "csv"
        @Option(help: "Only members of this status.") var status: String?
        @Option(help: "Write to this file instead of stdout.") var output: String?

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let listID = try parseList(list)
            guard let format = ContactFileFormat(rawValue: format) else { throw ValidationError("--format is csv or ndjson") }
            let status = try self.status.map { text in
                guard let status = MembershipStatus(rawValue: text) else { throw ValidationError("--status is pending, subscribed or unsubscribed") }
                return status
            }
            let sink: FileHandle
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil), let handle = FileHandle(forWritingAtPath: output) else {
                    throw ValidationError("cannot write '\(output)'")
                }
                sink = handle
            } else {
                sink = FileHandle.standardOutput
            }
            let count = try await database.withPool(about: .tenant(tenant)) { pool -> Int in
                let store = ContactStore(pool: pool)
                guard try await ContactListStore(pool: pool).get(tenantID: tenantID, id: listID) != nil else {
                    throw AdminError(.notFound, "tenant '\(tenant)' has no list '\(list)'")
                }
                let columns = format == .csv ? ContactExportLine.csvColumns(try await store.attributeNames(tenantID: tenantID, listID: listID)) : []
                if format == .csv { sink.write(Data(ContactExportLine.csvHeader(attributes: columns).utf8)) }
                var after: UUID?
                var count = 0
                while let page = try await store.members(tenantID: tenantID, listID: listID, status: status, after: after, limit: 1000), !page.isEmpty {
                    var text = ""
                    for member in page {
                        let c = member.contact
                        text += format == .csv
                            ? ContactExportLine.csv(email: c.email, status: member.status, timeZone: c.timeZone, attributes: c.attributes, columns: columns)
                            : ContactExportLine.ndjson(email: c.email, status: member.status, timeZone: c.timeZone, attributes: c.attributes)
                    }
                    sink.write(Data(text.utf8))
                    count += page.count
                    after = page.last?.contact.id
                    if page.count < 1000 { break }
                }
                return count
            }
            if output != nil { try? sink.close() }
            FileHandle.standardError.write(Data("exported \(count) members\n".utf8))
        }
    }
}
