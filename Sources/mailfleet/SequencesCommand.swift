import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetStore

struct Sequences: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage a tenant's drip sequences (steps with delays and conditions), enrol contacts and see who is where.",
        subcommands: [Create.self, List.self, Show.self, Enroll.self, Enrollments.self])

    /// An enrollment as `--json` prints it.
    struct EnrollmentRow: Encodable {
        var id: String
        var contactID: String
        var email: String
        var state: String
        var exitReason: String?
        var step: Int
        var nextRunAt: Date?
        var entry: String
        var enteredAt: Date

        enum CodingKeys: String, CodingKey {
            case id, email, state, step, entry
            case contactID = "contact_id"
            case exitReason = "exit_reason"
            case nextRunAt = "next_run_at"
            case enteredAt = "entered_at"
        }

        init(_ enrollment: SequenceEnrollment) {
            id = enrollment.id.lowercasedString
            contactID = enrollment.contactID.lowercasedString
            email = enrollment.email
            state = enrollment.state.rawValue
            exitReason = enrollment.exitReason?.rawValue
            step = enrollment.currentStep
            nextRunAt = enrollment.nextRunAt
            entry = enrollment.entry.rawValue
            enteredAt = enrollment.enteredAt
        }
    }

    /// A sequence as `--json` prints it.
    struct Row: Encodable {
        var id: String
        var name: String
        var listID: String?
        var from: String
        var goal: String?
        var steps: [SequenceStep]
        var enrollments: [String: Int]?

        enum CodingKeys: String, CodingKey {
            case id, name, from, goal, steps, enrollments
            case listID = "list_id"
        }

        init(_ sequence: DripSequence, counts: [SequenceEnrollment.State: Int]?) {
            id = sequence.id.lowercasedString
            name = sequence.name
            listID = sequence.triggerListID?.lowercasedString
            from = sequence.from.description
            goal = sequence.goal?.rawValue
            steps = sequence.steps
            enrollments = counts.map { counts in Dictionary(uniqueKeysWithValues: SequenceEnrollment.State.allCases.map { ($0.rawValue, counts[$0] ?? 0) }) }
        }
    }

    /// The common options naming one sequence.
    struct SequenceOptions: ParsableArguments {
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Sequence id.") var id: String

        func parsed() throws -> (tenant: UUID, sequence: UUID) {
            guard let sequence = UUID(uuidString: id) else {
                throw ValidationError("--id '\(id)' is not a valid UUID (a sequence id); `mailfleet sequences list` shows them")
            }
            return (try parseTenant(tenant), sequence)
        }
    }

    /// How a step's condition reads in a table.
    static func conditionText(_ condition: SequenceCondition?) -> String {
        switch condition {
        case nil: return "always"
        case .event(let type, let step, let happened)?:
            return "\(happened ? "" : "not ")\(type.rawValue) \(step.map { "step \($0)" } ?? "previous step")"
        case .segment?: return "segment filter"
        }
    }

    static func printSequence(_ sequence: DripSequence, counts: [SequenceEnrollment.State: Int]?, output: OutputOptions) throws {
        let row = Row(sequence, counts: counts)
        if output.json { return try output.printJSON(row) }
        var table = TextTable([.left("FIELD"), .left("VALUE")])
        table.append(["id", row.id])
        table.append(["name", row.name])
        table.append(["list", row.listID ?? "-"])
        table.append(["from", row.from])
        table.append(["goal", row.goal ?? "-"])
        if sequence.failures > 0 {
            table.append(["failures", String(sequence.failures)])
            table.append(["last error", sequence.lastError ?? "-"])
        }
        for state in SequenceEnrollment.State.allCases { table.append([state.rawValue, counts.map { String($0[state] ?? 0) } ?? "-"]) }
        var steps = TextTable([.right("STEP"), .right("DELAY"), .left("SUBJECT"), .left("WHEN")])
        for (index, step) in sequence.steps.enumerated() {
            steps.append([String(index + 1), "\(step.delaySeconds)s", step.template.subject, conditionText(step.condition)])
        }
        FileHandle.standardOutput.write(Data((table.text + "\n" + steps.text).utf8))
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a sequence from a JSON file (the body of POST /v1/sequences) and print it.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Argument(help: "The sequence as JSON: name, from, steps, and optionally list_id, goal, reply_to, track_opens, track_clicks.") var file: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let definition: SequenceDefinition
            do {
                definition = try JSONDecoder().decode(SequenceDefinition.self, from: data)
            } catch let error as DecodingError {
                let problem = FieldError(decoding: error)
                throw ValidationError("\(file): \(problem.field.map { "\($0): " } ?? "")\(problem.message)")
            } catch {
                throw ValidationError("\(file) is not valid JSON")
            }
            let created = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                let store = SequenceStore(pool: pool)
                var sequence = definition.sequence(tenantID: tenantID)
                do {
                    sequence.steps = try await store.copyingTemplates(into: sequence.steps, tenantID: tenantID)
                } catch let refusal as SequenceStore.TemplateRefusal {
                    throw ValidationError("\(refusal.problem.field ?? file): \(refusal.problem.message)")
                }
                if let problem = sequence.validate().first { throw ValidationError("\(problem.field ?? file): \(problem.message)") }
                do {
                    return try await store.create(sequence, actor: cliActor())
                } catch SequenceStore.CreateRefusal.noList {
                    throw AdminError(.notFound, "tenant '\(tenant)' has no list '\(definition.listID?.lowercasedString ?? "")'")
                } catch SequenceStore.CreateRefusal.nameTaken {
                    throw AdminError(.conflict, "tenant '\(tenant)' already has a sequence named '\(definition.name)'")
                }
            }
            try Sequences.printSequence(created, counts: nil, output: output)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's sequences in name order.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let sequences = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await SequenceStore(pool: pool).list(tenantID: tenantID, limit: 1000)
            }
            let rows = sequences.map { Row($0, counts: nil) }
            try output.print(rows, empty: "tenant '\(tenant)' has no sequences") {
                var table = TextTable([.left("ID"), .left("NAME"), .right("STEPS"), .left("LIST"), .left("GOAL")])
                for row in rows { table.append([row.id, row.name, String(row.steps.count), row.listID ?? "-", row.goal ?? "-"]) }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one sequence: its steps and how many contacts are in each state.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var sequence: SequenceOptions

        func run() async throws {
            let ids = try sequence.parsed()
            let found = try await database.withPool(about: .tenant(sequence.tenant)) { pool -> (DripSequence, [SequenceEnrollment.State: Int])? in
                let store = SequenceStore(pool: pool)
                guard let found = try await store.sequence(id: ids.sequence, tenantID: ids.tenant) else { return nil }
                return (found, try await store.counts(id: ids.sequence, tenantID: ids.tenant))
            }
            guard let found else { throw AdminError(.notFound, "tenant '\(sequence.tenant)' has no sequence '\(sequence.id)'") }
            try Sequences.printSequence(found.0, counts: found.1, output: output)
        }
    }

    struct Enroll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Enrol a contact (by --contact id or --email); a contact enters a sequence once.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var sequence: SequenceOptions
        @Option(help: "The contact's id.") var contact: String?
        @Option(help: "The contact's address.") var email: String?

        func run() async throws {
            let ids = try sequence.parsed()
            let reference: SequenceStore.ContactReference
            switch (contact, email) {
            case (let id?, nil):
                guard let uuid = UUID(uuidString: id) else { throw ValidationError("--contact '\(id)' is not a valid UUID (a contact id)") }
                reference = .id(uuid)
            case (nil, let address?):
                guard let parsed = try? EmailAddress(email: address) else { throw ValidationError("--email '\(address)' is not an email address") }
                reference = .email(parsed.email)
            default:
                throw ValidationError("give either --contact or --email")
            }
            let outcome = try await database.withPool(about: .tenant(sequence.tenant)) {
                try await SequenceStore(pool: $0).enroll(sequenceID: ids.sequence, tenantID: ids.tenant, contact: reference, actor: cliActor())
            }
            switch outcome {
            case .noSequence: throw AdminError(.notFound, "tenant '\(sequence.tenant)' has no sequence '\(sequence.id)'")
            case .noContact: throw AdminError(.notFound, "tenant '\(sequence.tenant)' has no such contact")
            case .notSubscribed:
                throw AdminError(.invalid, "the contact has not confirmed its subscription to the sequence's list; confirming enrols it")
            case .enrolled(let enrollment, let created):
                let row = EnrollmentRow(enrollment)
                if output.json { return try output.printJSON(row) }
                print("\(created ? "enrolled" : "already enrolled") \(row.email): \(row.state), \(row.step) step(s) done"
                    + (row.nextRunAt.map { ", next at \(TextTable.time($0))" } ?? ""))
            }
        }
    }

    struct Enrollments: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a sequence's enrollments (each contact's step, state and next run) in contact-id order.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @OptionGroup var sequence: SequenceOptions
        @Option(help: "Only this state: active, completed or exited.") var state: String?
        @Option(help: "At most this many (1 to 1000).") var limit = 100

        func run() async throws {
            let ids = try sequence.parsed()
            let wanted = try state.map { text in
                guard let value = SequenceEnrollment.State(rawValue: text) else { throw ValidationError("--state is one of active, completed, exited") }
                return value
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
            let page = try await database.withPool(about: .tenant(sequence.tenant)) {
                try await SequenceStore(pool: $0).enrollments(sequenceID: ids.sequence, tenantID: ids.tenant, state: wanted, limit: limit)
            }
            guard let page else { throw AdminError(.notFound, "tenant '\(sequence.tenant)' has no sequence '\(sequence.id)'") }
            let rows = page.map(EnrollmentRow.init)
            try output.print(rows, empty: "no enrollments") {
                var table = TextTable([.left("CONTACT"), .left("EMAIL"), .left("STATE"), .right("STEP"), .left("NEXT RUN"), .left("ENTRY")])
                for row in rows {
                    table.append([
                        row.contactID, row.email, row.exitReason.map { "\(row.state) (\($0))" } ?? row.state, String(row.step),
                        row.nextRunAt.map(TextTable.time) ?? "-", row.entry,
                    ])
                }
                return table
            }
        }
    }
}
