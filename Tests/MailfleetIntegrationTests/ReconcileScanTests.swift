import Foundation
import MailfleetCore
import MailfleetPostgres
import MailfleetStore
import Testing

/// The reconciliation scan against the real Postgres: pages in `(enqueued_at, id)` order that
/// reach every stalled message once, ties included, without writing; only the messages put
/// back on the queue are marked enqueued.
@Suite("Reconciliation scan", .serialized)
struct ReconcileScanTests {
    @Test func pagesReachEveryStalledMessageOnceWithoutWritingAndOnlyMarkedOnesMove() async throws {
        let db = try await TwoTenants.make()
        let store = MessageStore(pool: db.pool)
        let messages = (0..<7).map { _ in Message(id: UUID(), tenantID: db.a, priority: .bulk, status: .queued, content: content()) }
        _ = try await store.accept([
            AcceptRequest(tenantID: db.a, idempotencyKey: nil, requestHash: "h", responseStatus: 202, responseBody: "{}", messages: messages)
        ])
        let ids = Set(messages.map(\.id))
        // One accept writes one enqueued_at for all seven: the pages must split a tie.
        try await db.pool.query("UPDATE messages SET enqueued_at = now() - interval '1 hour' WHERE id = ANY($1::uuid[])", [Array(ids)])
        func enqueuedAt() async throws -> [UUID: Date] {
            var out: [UUID: Date] = [:]
            for row in try await db.pool.query("SELECT id, enqueued_at FROM messages WHERE id = ANY($1::uuid[])", [Array(ids)]) {
                out[try row.uuid("id")] = try row.date("enqueued_at")
            }
            return out
        }
        let before = try await enqueuedAt()

        var seen: [UUID] = []
        var cursor: MessageStore.StalledCursor?
        var pages = 0
        repeat {
            let page = try await store.stalled(olderThan: 300, after: cursor, limit: 3)
            seen += page.items.map(\.id).filter(ids.contains)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10_000
        #expect(seen.count == 7 && Set(seen) == ids)
        #expect(try await enqueuedAt() == before)

        // Marking: a message finished since it was read is not put back.
        let (kept, finished) = (messages[0].id, messages[1].id)
        try await db.pool.query("UPDATE messages SET status = 'sent' WHERE id = $1", [finished])
        #expect(try await store.markEnqueued([kept, finished]) == [kept])
        let after = try await enqueuedAt()
        #expect(after[kept]! > before[kept]!)
        #expect(after[finished] == before[finished] && after[messages[2].id] == before[messages[2].id])
    }
}
