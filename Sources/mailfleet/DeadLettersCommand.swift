import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore

/// `mailfleet dlq`: dead letters, the failed messages Postgres keeps (with their reason and the
/// time they failed) for `MAILFLEET_DEAD_LETTER_RETENTION_DAYS`.
struct DeadLetters: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Dead letters (failed messages): list, show, re-drive.", subcommands: [List.self, Show.self, Redrive.self])

    /// The filters `list` and `redrive` share.
    struct Filters: ParsableArguments {
        @Option(help: "Only this tenant's messages (a tenant id).") var tenant: String?
        @Option(help: "Only messages whose error contains this text (case-insensitive).") var reason: String?
        @Option(help: "Only messages that failed at or after this time (ISO 8601, e.g. 2026-01-31T09:00:00Z).") var since: String?
        @Option(help: "Only messages that failed before this time (ISO 8601).") var until: String?

        /// The filter these options describe, narrowed to `ids` when some are given.
        func filter(ids: [String] = []) throws -> DeadLetterFilter {
            DeadLetterFilter(
                tenantID: try tenant.map(parseTenant), reason: reason.flatMap { $0.isEmpty ? nil : $0 },
                since: try since.map { try parseTime($0, option: "--since") }, until: try until.map { try parseTime($0, option: "--until") },
                ids: ids.isEmpty ? nil : try ids.map(parseMessageID))
        }

        func validate() throws { _ = try filter() }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List dead letters, most recently failed first: failed at, message id, tenant, attempts, recipients, reason.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var filters: Filters
        @OptionGroup var output: OutputOptions
        @Option(help: "Most lines to print.") var limit = 100

        /// A dead letter as `--json` prints it.
        struct Row: Encodable {
            var id: String
            var tenantId: String
            var failedAt: Date
            var attempts: Int
            var recipients: [String]
            var reason: String?
        }

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let filter = try filters.filter()
            let letters = try await database.withPool { try await MessageStore(pool: $0).deadLetters(matching: filter, limit: limit) }
            let rows = letters.map { letter in
                Row(id: letter.message.id.lowercasedString, tenantId: letter.message.tenantID.lowercasedString, failedAt: letter.updatedAt,
                    attempts: letter.message.attempts, recipients: letter.message.content.allRecipients.map(\.email), reason: letter.lastError)
            }
            try output.print(rows, empty: "no dead letters match") {
                var table = TextTable([
                    .left("FAILED AT"), .left("MESSAGE"), .left("TENANT"), .right("ATTEMPTS"), .left("RECIPIENTS"), .left("REASON"),
                ])
                for row in rows {
                    table.append([
                        TextTable.time(row.failedAt), row.id, row.tenantId, "\(row.attempts)", row.recipients.joined(separator: ","), row.reason ?? "-",
                    ])
                }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a message: reason, attempts, times, recipients and its events.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var output: OutputOptions
        @Argument(help: "The message id.") var id: String

        /// A message as `--json` prints it.
        struct Details: Encodable {
            var id: String
            var tenantId: String
            var status: String
            var reason: String?
            var attempts: Int
            var priority: String
            var createdAt: Date
            var failedAt: Date?
            var sentAt: Date?
            var from: String
            var to: [String]
            var cc: [String]
            var bcc: [String]
            var subject: String
            var events: [Event]
        }

        /// One event of the message's history.
        struct Event: Encodable {
            var occurredAt: Date
            var type: String
            var detail: String
        }

        func run() async throws {
            let id = try parseMessageID(id)
            let found = try await database.withPool { pool -> MessageRecord? in
                let store = MessageStore(pool: pool)
                guard let tenantID = try await store.tenant(ofMessage: id) else { return nil }
                return try await store.message(id: id, tenantID: tenantID)
            }
            guard let record = found else { throw AdminError(.notFound, "no message '\(id.lowercasedString)'") }
            let message = record.message, content = message.content
            let details = Details(
                id: message.id.lowercasedString, tenantId: message.tenantID.lowercasedString, status: message.status.rawValue,
                reason: record.lastError, attempts: message.attempts, priority: message.priority.rawValue, createdAt: message.createdAt,
                failedAt: message.status == .failed ? record.updatedAt : nil, sentAt: record.sentAt, from: content.from.description,
                to: content.to.map(\.description), cc: content.cc.map(\.description), bcc: content.bcc.map(\.description),
                subject: content.subject, events: record.events.map { Event(occurredAt: $0.occurredAt, type: $0.type, detail: $0.detail) })
            if output.json { return try output.printJSON(details) }
            var fields = TextTable([.left("FIELD"), .left("VALUE")])
            fields.append(["id", details.id])
            fields.append(["tenant", details.tenantId])
            fields.append(["status", details.status])
            fields.append(["reason", details.reason ?? "-"])
            fields.append(["attempts", "\(details.attempts)"])
            fields.append(["priority", details.priority])
            fields.append(["created", TextTable.time(details.createdAt)])
            if let failedAt = details.failedAt { fields.append(["failed", TextTable.time(failedAt)]) }
            if let sentAt = details.sentAt { fields.append(["sent", TextTable.time(sentAt)]) }
            fields.append(["from", details.from])
            fields.append(["to", details.to.joined(separator: ", ")])
            if !details.cc.isEmpty { fields.append(["cc", details.cc.joined(separator: ", ")]) }
            if !details.bcc.isEmpty { fields.append(["bcc", details.bcc.joined(separator: ", ")]) }
            fields.append(["subject", details.subject])
            var events = TextTable([.left("TIME"), .left("EVENT"), .left("DETAIL")])
            for event in details.events { events.append([TextTable.time(event.occurredAt), event.type, event.detail]) }
            print(fields.text + "\n" + events.text, terminator: "")
        }
    }

    struct Redrive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send dead letters again: each goes back to queued with its attempts reset (its error kept in a `redriven` event).",
            discussion: """
                Takes the messages named, or those matching the filters, or with --all every dead letter. Works in \
                batches: each batch commits in Postgres (status, events, an audit entry), then goes on the queue. \
                Running it again, or after it was killed, is safe: re-driven messages are no longer failed, and a \
                batch committed but not enqueued is enqueued by the scheduler's reconciliation \
                (MAILFLEET_RECONCILE_AFTER_SECONDS). Messages that fail again while it runs are not taken twice.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var queue: QueueOptions
        @OptionGroup var filters: Filters
        @Argument(help: "Message ids to re-drive (the filters, if any, apply to them too).") var ids: [String] = []
        @Flag(help: "Re-drive every dead letter of every tenant; required when no id or filter is given.") var all = false
        @Option(help: "Messages per transaction.") var batchSize = 1000

        func validate() throws {
            guard (1...10_000).contains(batchSize) else { throw ValidationError("--batch-size must be 1 to 10000") }
            if try filters.filter(ids: ids).isEmpty && !all {
                throw ValidationError("give message ids, a filter (--tenant, --reason, --since, --until), or --all to re-drive every dead letter")
            }
        }

        func run() async throws {
            let requested = try filters.filter(ids: ids)
            let redis = RedisClient(url: try queue.redisURL, connections: 1, name: "cli-redis")
            defer { redis.shutdown() }
            let messageQueue = MessageQueue(redis: redis, partitioning: Partitioning(count: try queue.partitions))
            let actor = cliActor(), batchSize = self.batchSize
            let (progress, unqueued) = try await database.withPool { pool in
                let store = MessageStore(pool: pool)
                // Bounded by its start, so a message that fails again meanwhile is not taken twice.
                let filter = requested.failed(before: try await store.databaseTime())
                var progress = WorkProgress(total: try await store.countDeadLetters(matching: filter), step: "batch", verb: "re-driven")
                var unqueued = 0
                let bar = ProgressOutput()
                bar.show(progress)
                while true {
                    let items = try await store.redriveDeadLetters(matching: filter, limit: batchSize, actor: actor)
                    if items.isEmpty { break }
                    do {
                        try await messageQueue.enqueue(items)
                    } catch {
                        // Committed as queued: the scheduler's reconciliation enqueues them.
                        unqueued += items.count
                        bar.note("could not enqueue \(items.count) re-driven messages (\(error)); the scheduler's reconciliation will")
                    }
                    progress.advance(by: items.count)
                    bar.show(progress)
                }
                bar.finish()
                return (progress, unqueued)
            }
            print("re-driven \(progress.done) messages (\(requested))")
            if unqueued > 0 {
                print("\(unqueued) of them are queued in Postgres but not yet in Redis: reconciliation enqueues them within MAILFLEET_RECONCILE_AFTER_SECONDS")
            }
        }
    }
}

private func parseMessageID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("'\(text)' is not a valid UUID (a message id)") }
    return id
}

private func parseTime(_ text: String, option: String) throws -> Date {
    guard let date = ISO8601.parse(text) else { throw ValidationError("\(option) takes an ISO 8601 time such as 2026-01-31T09:00:00Z, got \(text)") }
    return date
}
