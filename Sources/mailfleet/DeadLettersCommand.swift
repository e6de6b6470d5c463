import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetPostgres
import MailfleetRedis
import MailfleetStore
#if canImport(Glibc)
import Glibc
#endif

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
            abstract: "List dead letters, most recently failed first: failed at, message id, tenant, attempts, recipients, reason (tab-separated).")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var filters: Filters
        @Option(help: "Most lines to print.") var limit = 100

        func validate() throws {
            guard limit >= 1 else { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let filter = try filters.filter()
            let letters = try await database.withPool { try await MessageStore(pool: $0).deadLetters(matching: filter, limit: limit) }
            for letter in letters {
                let message = letter.message
                let fields = [
                    ISO8601.format(letter.updatedAt), message.id.lowercasedString, message.tenantID.lowercasedString, "\(message.attempts)",
                    message.content.allRecipients.map(\.email).joined(separator: ","), letter.lastError ?? "",
                ]
                print(fields.map(oneField).joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a message: reason, attempts, times, recipients and its events.")
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The message id.") var id: String

        func run() async throws {
            let id = try parseMessageID(id)
            let found = try await database.withPool { pool -> MessageRecord? in
                let store = MessageStore(pool: pool)
                guard let tenantID = try await store.tenant(ofMessage: id) else { return nil }
                return try await store.message(id: id, tenantID: tenantID)
            }
            guard let record = found else { throw ValidationError("no message \(id.lowercasedString)") }
            let message = record.message, content = message.content
            var lines: [(String, String)] = [
                ("id", message.id.lowercasedString), ("tenant", message.tenantID.lowercasedString), ("status", message.status.rawValue),
                ("reason", record.lastError ?? "-"), ("attempts", "\(message.attempts)"), ("priority", message.priority.rawValue),
                ("created", ISO8601.format(message.createdAt)),
            ]
            if message.status == .failed { lines.append(("failed", ISO8601.format(record.updatedAt))) }
            if let sentAt = record.sentAt { lines.append(("sent", ISO8601.format(sentAt))) }
            lines += [("from", content.from.description), ("to", content.to.map(\.description).joined(separator: ", "))]
            if !content.cc.isEmpty { lines.append(("cc", content.cc.map(\.description).joined(separator: ", "))) }
            if !content.bcc.isEmpty { lines.append(("bcc", content.bcc.map(\.description).joined(separator: ", "))) }
            lines.append(("subject", content.subject))
            for (name, value) in lines { print("\(name)\t\(oneField(value))") }
            print("events:")
            for event in record.events { print("  \(ISO8601.format(event.occurredAt))\t\(event.type)\t\(oneField(event.detail))") }
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
                var progress = RedriveProgress(total: try await store.countDeadLetters(matching: filter))
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

/// A re-drive's progress on stderr: a bar redrawn in place on a terminal, a plain line per
/// batch otherwise.
private struct ProgressOutput {
    let isTerminal = isatty(STDERR_FILENO) == 1

    func show(_ progress: RedriveProgress) {
        if isTerminal {
            write("\r" + progress.bar())
        } else if progress.batches > 0 {
            write(progress.line + "\n")
        }
    }

    /// A message between updates, on a line of its own.
    func note(_ text: String) {
        write((isTerminal ? "\n" : "") + text + "\n")
    }

    func finish() {
        if isTerminal { write("\n") }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

private func parseMessageID(_ text: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("\(text) is not a message id (a UUID)") }
    return id
}

private func parseTime(_ text: String, option: String) throws -> Date {
    guard let date = ISO8601.parse(text) else { throw ValidationError("\(option) takes an ISO 8601 time such as 2026-01-31T09:00:00Z, got \(text)") }
    return date
}

/// A value on one tab-separated line: tabs and line breaks become spaces.
private func oneField(_ text: String) -> String {
    String(text.map { $0 == "\t" || $0.isNewline ? " " : $0 })
}
