import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

struct Campaigns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Campaigns: a template sent to a list's subscribed members, scheduled, paced, pausable.",
        discussion: "The scheduler's campaign runner makes the messages once a campaign is started; `show` follows its progress and stats.",
        subcommands: [Create.self, List.self, Show.self, ABReport.self, Start.self, Pause.self, Resume.self, Cancel.self])

    /// A campaign as `--json` prints it.
    struct Row: Encodable {
        var id: String
        var name: String
        var state: String
        var listId: String
        var subject: String
        var from: String
        var sendAt: Date?
        var localSendAt: String?
        var timeZone: String?
        var recipientLocalTime: Bool
        var perHour: Int?
        var expanded: Int
        var recipientsTotal: Int?
        var skipped: Int
        var lastError: String?
        var createdAt: Date
        var stats: CampaignStats?

        init(_ campaign: Campaign, stats: CampaignStats? = nil) {
            id = campaign.id.lowercasedString
            name = campaign.name
            state = campaign.state.rawValue
            listId = campaign.listID.lowercasedString
            subject = campaign.template.subject
            from = campaign.from.description
            sendAt = campaign.schedule.sendAt
            localSendAt = campaign.schedule.localTime?.text
            timeZone = campaign.schedule.timeZone
            recipientLocalTime = campaign.schedule.perRecipient
            perHour = campaign.perHour
            expanded = campaign.expanded
            recipientsTotal = campaign.recipientsTotal
            skipped = campaign.skipped
            lastError = campaign.lastError
            createdAt = campaign.createdAt
            self.stats = stats
        }

        /// `expanded/total`, or the expanded count alone before the total is known.
        var progress: String { recipientsTotal.map { "\(expanded)/\($0)" } ?? "\(expanded)" }
    }

    static func table(_ rows: [Row]) -> TextTable {
        var table = TextTable([.left("ID"), .left("NAME"), .left("STATE"), .right("PROGRESS"), .left("SEND AT"), .right("PER HOUR")])
        for row in rows {
            table.append([
                row.id, row.name, row.state, row.progress, row.sendAt.map(ISO8601.format) ?? "when started", row.perHour.map(String.init) ?? "-",
            ])
        }
        return table
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a campaign (a draft) and print its id; start it with `campaigns start`.",
            discussion: """
                Give --template (a stored template, its latest version unless --template-version) or --subject with \
                --text-file and/or --html-file. Variables are each contact's attributes and `email`. --send-at takes \
                RFC 3339 with an offset, or a local time (2026-03-01T09:00:00) with --time-zone; with \
                --recipient-local-time each contact gets that local time in its own zone.
                """)
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Campaign name.") var name: String
        @Option(help: "The list id whose subscribed members receive it.") var list: String
        @Option(help: "A stored template id.") var template: String?
        @Option(help: "The template's version (default: its latest).") var templateVersion: Int?
        @Option(help: "Subject (Mustache); replaces the template's when both are given.") var subject: String?
        @Option(help: "File holding the text part (Mustache).") var textFile: String?
        @Option(help: "File holding the HTML part (Mustache).") var htmlFile: String?
        @Option(help: "Sender: a@example.com or 'Name <a@example.com>'.") var from: String
        @Option(help: "Reply-to address.") var replyTo: String?
        @Option(help: "When to send: RFC 3339, or a local time with --time-zone.") var sendAt: String?
        @Option(help: "IANA time zone (Europe/Berlin).") var timeZone: String?
        @Flag(help: "Send at the local --send-at in each contact's own time zone.") var recipientLocalTime = false
        @Option(help: "The most recipients expanded per rolling hour.") var perHour: Int?
        @Flag(help: "Add an open-tracking pixel.") var trackOpens = false
        @Flag(help: "Track clicks on links.") var trackClicks = false
        @Option(help: #"A/B test variants as JSON, e.g. '[{"subject":"One"},{"subject":"Two","from":"b@example.com"}]', or @file; needs --ab-test."#)
        var variants: String?
        @Option(help: #"The A/B test as JSON, e.g. '{"test_percent":20,"metric":"clicked","decide_after_minutes":240}', or @file."#) var abTest: String?

        /// JSON text, or `@path` to a file holding it, decoded as `T`.
        static func decode<T: Decodable>(_ text: String, _ type: T.Type, option: String) throws -> T {
            var data = Data(text.utf8)
            if text.hasPrefix("@") {
                let path = String(text.dropFirst())
                guard let contents = FileManager.default.contents(atPath: path) else { throw ValidationError("--\(option): cannot read \(path)") }
                data = contents
            }
            do {
                return try JSONDecoder().decode(T.self, from: data)
            } catch let error as DecodingError {
                let problem = FieldError(decoding: error)
                throw ValidationError("--\(option): \(problem.field.map { "\($0): " } ?? "")\(problem.message)")
            }
        }

        func validate() throws {
            if let perHour, perHour < 1 || perHour > Campaign.maxPerHour { throw ValidationError("--per-hour must be 1 to \(Campaign.maxPerHour)") }
            if template == nil, subject == nil { throw ValidationError("give --template or --subject with --text-file/--html-file") }
            if template != nil, textFile != nil || htmlFile != nil { throw ValidationError("give --template or --text-file/--html-file, not both") }
            if templateVersion != nil, template == nil { throw ValidationError("--template-version needs --template") }
            if let template, UUID(uuidString: template) == nil { throw ValidationError("--template '\(template)' is not a template id (a UUID)") }
            if UUID(uuidString: list) == nil { throw ValidationError("--list '\(list)' is not a list id (a UUID)") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let schedule: CampaignSchedule
            do {
                schedule = try CampaignSchedule.parse(sendAt: sendAt, timeZone: timeZone, perRecipient: recipientLocalTime)
            } catch {
                throw ValidationError("--\(error.field?.replacingOccurrences(of: "_", with: "-") ?? "send-at"): \(error.message)")
            }
            let sender: EmailAddress, replyAddress: EmailAddress?
            do {
                sender = try EmailAddress(parsing: from)
                replyAddress = try replyTo.map { try EmailAddress(parsing: $0) }
            } catch {
                throw ValidationError("--from/--reply-to: \((error as? AddressError)?.reason ?? "\(error)")")
            }
            let variants = CampaignVariant.named(try self.variants.map { try Self.decode($0, [CampaignVariant].self, option: "variants") } ?? [])
            let test = try abTest.map { try Self.decode($0, ABTest.self, option: "ab-test") }
            if variants.isEmpty != (test == nil) { throw ValidationError("give --variants and --ab-test together") }
            let text = try textFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
            let html = try htmlFile.map { try String(contentsOfFile: $0, encoding: .utf8) }
            let templateID = template.flatMap(UUID.init(uuidString:)), listID = UUID(uuidString: list)!
            let (name, subject, version, perHour) = (self.name, self.subject, templateVersion, self.perHour)
            let (opens, clicks) = (trackOpens, trackClicks)
            let created = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                var parts = MessageTemplate(subject: subject ?? "", text: text, html: html)
                var usedVersion: Int?
                if let templateID {
                    guard let record = try await TemplateStore(pool: pool).get(tenantID: tenantID, id: templateID, version: version) else {
                        throw AdminError(.notFound, "no template \(templateID.lowercasedString) (at that version) for tenant '\(tenant)'")
                    }
                    parts = record.template
                    if let subject { parts.subject = subject }
                    usedVersion = record.version
                }
                if let problem = parts.validate().first { throw AdminError(.invalid, "\(problem.field ?? "template"): \(problem.message)") }
                if let test, let problem = test.validate(variants: variants, base: parts, trackOpens: opens, trackClicks: clicks) {
                    throw AdminError(.invalid, "\(problem.field ?? "variants"): \(problem.message)")
                }
                let campaign = Campaign(
                    id: UUID(), tenantID: tenantID, name: name, listID: listID, templateID: templateID, templateVersion: usedVersion, template: parts,
                    from: sender, replyTo: replyAddress, trackOpens: opens, trackClicks: clicks, schedule: schedule, perHour: perHour,
                    variants: variants, abTest: test)
                do {
                    return try await CampaignStore(pool: pool).create(campaign, actor: cliActor())
                } catch CampaignStore.CreateRefusal.noList {
                    throw AdminError(.notFound, "no list \(listID.lowercasedString) for tenant '\(tenant)'")
                }
            }
            print(created.id.lowercasedString)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a tenant's campaigns, newest first, with their progress.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Only campaigns in this state: \(CampaignState.allCases.map(\.rawValue).joined(separator: ", ")).") var state: String?
        @Option(help: "At most this many (1 to 1,000).") var limit = 100

        func validate() throws {
            if let state, CampaignState(rawValue: state) == nil {
                throw ValidationError("--state is one of \(CampaignState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1 to 1000") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let state = self.state.flatMap(CampaignState.init(rawValue:)), limit = self.limit
            let campaigns = try await database.withPool(about: .tenant(tenant)) { pool in
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                return try await CampaignStore(pool: pool).list(tenantID: tenantID, state: state, limit: limit)
            }
            let rows = campaigns.map { Row($0) }
            try output.print(rows, empty: "no campaigns") { Campaigns.table(rows) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a campaign: its state, progress and stats.")
        @OptionGroup var campaign: CampaignID

        func run() async throws {
            let tenantID = try campaign.tenantID, id = campaign.campaignID
            let row = try await campaign.database.withPool(about: .tenant(campaign.tenant)) { pool in
                let store = CampaignStore(pool: pool)
                guard let found = try await store.campaign(id: id, tenantID: tenantID) else { throw campaign.notFound }
                return Row(found, stats: try await store.stats(id: id, tenantID: tenantID))
            }
            if campaign.output.json { return try campaign.output.printJSON(row) }
            var table = TextTable([.left("FIELD"), .left("VALUE")])
            table.append(["id", row.id])
            table.append(["name", row.name])
            table.append(["state", row.state])
            table.append(["subject", row.subject])
            table.append(["progress", row.progress + (row.skipped > 0 ? " (\(row.skipped) skipped)" : "")])
            table.append(["send at", row.sendAt.map(ISO8601.format) ?? "when started"])
            if let stats = row.stats {
                for (name, value) in [
                    ("pending", stats.pending), ("sent", stats.sent), ("failed", stats.failed), ("cancelled", stats.cancelled), ("delivered", stats.delivered),
                    ("bounced", stats.bounced), ("opened", stats.opened), ("clicked", stats.clicked), ("unsubscribed", stats.unsubscribed),
                    ("complained", stats.complained),
                ] {
                    table.append([name, "\(value)"])
                }
            }
            if let error = row.lastError { table.append(["last error", error]) }
            print(table.text, terminator: "")
        }
    }

    struct ABReport: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ab-report",
            abstract: "Show a campaign's A/B test: each variant's counts, rate with its interval, z and p against the best, and the winner.",
            discussion: "Rates are the test cohort's messages with the metric's event; see docs/CAMPAIGNS.md \"A/B tests\" for the test and intervals.")
        @OptionGroup var campaign: CampaignID

        func run() async throws {
            let tenantID = try campaign.tenantID, id = campaign.campaignID
            let lookup = try await campaign.database.withPool(about: .tenant(campaign.tenant)) { pool in
                try await CampaignStore(pool: pool).abReport(id: id, tenantID: tenantID)
            }
            let report: ABTestReport
            switch lookup {
            case .notFound: throw campaign.notFound
            case .noTest: throw AdminError(.notFound, "campaign \(id.lowercasedString) has no A/B test")
            case .report(let found): report = found
            }
            if campaign.output.json { return try campaign.output.printJSON(report) }
            func percent(_ x: Double) -> String { String(format: "%.2f%%", x * 100) }
            var table = TextTable([
                .left("VARIANT"), .right("SENT"), .right("OPENED"), .right("CLICKED"), .right("RATE"), .left("INTERVAL"), .right("Z"), .right("P"),
                .left("VS BEST"),
            ])
            for variant in report.variants {
                let s = variant.statistics
                table.append([
                    variant.name, "\(variant.counts.sent)", "\(variant.counts.opened)", "\(variant.counts.clicked)", percent(s.rate),
                    "\(percent(s.interval.lower)) to \(percent(s.interval.upper))", s.z.map { String(format: "%.3f", $0) } ?? "best",
                    s.pValue.map { String(format: "%.4f", $0) } ?? "-",
                    s.significant.map { $0 ? "significantly worse" : "not significant" } ?? "-",
                ])
            }
            print(table.text, terminator: "")
            var summary = "metric \(report.test.metric.rawValue), alpha \(report.test.significance) (\(report.comparisonSignificance) per comparison); phase \(report.phase.rawValue)"
            if let decideBy = report.decideBy { summary += ", decided by \(decideBy)" }
            print(summary)
            if let decision = report.decision {
                print("winner \(decision.winnerName) (\(decision.rule == .significant ? "significantly better" : "nothing significant by the deadline: highest rate kept")), decided at \(decision.decidedAt)")
            }
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Start a draft: scheduled until its send time, else running at once.")
        @OptionGroup var target: Target
        func run() async throws { try await target.apply(.start) }
    }

    struct Pause: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a scheduled or running campaign: no more messages are made; those already made still go.")
        @OptionGroup var target: Target
        func run() async throws { try await target.apply(.pause) }
    }

    struct Resume: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused campaign from where it stopped.")
        @OptionGroup var target: Target
        func run() async throws { try await target.apply(.resume) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a campaign for good: no more messages are made and those still queued are cancelled.")
        @OptionGroup var target: Target
        func run() async throws { try await target.apply(.cancel) }
    }

    /// The campaign a command names, and how its result is printed.
    struct CampaignID: ParsableArguments {
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Argument(help: "Campaign id.") var id: String

        func validate() throws {
            if UUID(uuidString: id) == nil { throw ValidationError("'\(id)' is not a campaign id (a UUID)") }
        }

        /// The tenant, parsed.
        var tenantID: UUID { get throws { try parseTenant(tenant) } }
        /// The campaign id (`validate` checked it).
        var campaignID: UUID { UUID(uuidString: id)! }
        /// The error for a campaign the tenant does not have.
        var notFound: AdminError { AdminError(.notFound, "no campaign \(campaignID.lowercasedString) for tenant '\(tenant)'") }
    }

    /// A campaign a command changes, and the queue its cancelled messages leave.
    struct Target: ParsableArguments {
        @OptionGroup var campaign: CampaignID
        @OptionGroup var queue: QueueOptions

        func apply(_ command: CampaignCommand) async throws {
            let tenantID = try campaign.tenantID, id = campaign.campaignID, output = campaign.output
            let outcome = try await campaign.database.withPool(about: .tenant(campaign.tenant)) { pool in
                try await CampaignStore(pool: pool).apply(command, id: id, tenantID: tenantID, actor: cliActor())
            }
            switch outcome {
            case .notFound:
                throw campaign.notFound
            case .refused(let refusal):
                throw AdminError(.conflict, refusal.message)
            case .applied(let campaign, let cancelled):
                if let cancelled { await forget(cancelled.cancelled) }
                let row = Row(campaign)
                if output.json { return try output.printJSON(row) }
                var line = "campaign \(row.id): \(row.state)"
                if let cancelled { line += "; \(cancelled.cancelled.count) messages cancelled, \(cancelled.notCancellable) not cancellable" }
                print(line)
            }
        }

        /// Drops cancelled messages from Redis's delayed sets; best effort, since workers drop
        /// whatever stays when they reach it.
        private func forget(_ items: [MessageQueue.Item]) async {
            guard !items.isEmpty else { return }
            do {
                let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
                defer { redis.shutdown() }
                try await MessageQueue(redis: redis, partitioning: Partitioning(count: try queue.partitions)).forget(items)
            } catch {
                FileHandle.standardError.write(Data("note: the queue was not tidied (\(error)); workers drop cancelled entries when they reach them\n".utf8))
            }
        }
    }
}
