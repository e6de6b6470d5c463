import ArgumentParser
import Foundation
import MailfleetConfiguration
import MailfleetCore
import MailfleetRedis
import MailfleetStore

struct Messages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Act on a tenant's messages.", subcommands: [Cancel.self])

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel a tenant's messages not yet sent: by id, or every one of a batch (--batch).",
            discussion: """
                A queued or scheduled message is cancelled at once. One a worker has (sending, or held by a limit) \
                gets a cancel request, reported as "cancel requested": it ends cancelled, or sent if its provider \
                call had already started. A finished message is reported as not cancellable. Cancelled messages are \
                never sent (status cancelled, with a cancelled event). Running it again is safe: what is already \
                cancelled is not cancellable any more.
                """)
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var queue: QueueOptions
        @OptionGroup var output: OutputOptions
        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "The tenant's batch_id: cancel every still-cancellable message of it.") var batch: String?
        @Argument(help: "Message ids to cancel.") var ids: [String] = []

        /// The result as `--json` prints it.
        struct Row: Encodable {
            var id: String
            var result: String
        }

        /// A batch's result as `--json` prints it.
        struct BatchRow: Encodable {
            var batchId: String
            var cancelled: Int
            var cancelRequested: Int
            var notCancellable: Int
        }

        func validate() throws {
            guard (batch != nil) != !ids.isEmpty else { throw ValidationError("give message ids or --batch BATCH_ID, not both") }
            if let batch, !BatchID.isValid(batch) { throw ValidationError("--batch: \(BatchID.rule)") }
            for id in ids where UUID(uuidString: id) == nil { throw ValidationError("'\(id)' is not a message id (a UUID)") }
        }

        func run() async throws {
            let tenantID = try parseTenant(tenant)
            let actor = cliActor(), batch = self.batch, ids = self.ids.compactMap(UUID.init(uuidString:))
            let (rows, cancelled, requested, notCancellable) = try await database.withPool(about: .tenant(tenant)) { pool in
                let store = MessageStore(pool: pool)
                guard try await TenantStore(pool: pool).tenantExists(tenantID) else { throw AdminError.noTenant(tenant) }
                if let batch {
                    let result = try await store.cancel(batchID: batch, tenantID: tenantID, actor: actor)
                    return ([Row](), result.cancelled, result.requested, result.notCancellable)
                }
                var rows: [Row] = [], cancelled: [MessageQueue.Item] = [], requested = 0
                for id in ids {
                    switch try await store.cancel(messageID: id, tenantID: tenantID, actor: actor) {
                    case .cancelled(let item):
                        cancelled.append(item)
                        rows.append(Row(id: id.lowercasedString, result: "cancelled"))
                    case .requested:
                        requested += 1
                        rows.append(Row(id: id.lowercasedString, result: "cancel requested (a worker has it)"))
                    case .notCancellable(let status):
                        rows.append(Row(id: id.lowercasedString, result: "not cancellable (\(status.rawValue))"))
                    case .notFound:
                        rows.append(Row(id: id.lowercasedString, result: "not found"))
                    }
                }
                return (rows, cancelled, requested, rows.count - cancelled.count - requested)
            }
            await forget(cancelled)
            if let batch {
                let row = BatchRow(batchId: batch, cancelled: cancelled.count, cancelRequested: requested, notCancellable: notCancellable)
                if output.json { return try output.printJSON(row) }
                print("batch \(batch): \(cancelled.count) cancelled, \(requested) cancel requested, \(notCancellable) not cancellable")
                return
            }
            try output.print(rows, empty: "nothing to cancel") {
                var table = TextTable([.left("ID"), .left("RESULT")])
                for row in rows { table.append([row.id, row.result]) }
                return table
            }
        }

        /// Drops the cancelled messages from Redis's delayed sets; best effort, since the workers
        /// drop whatever stays when they fetch it.
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
