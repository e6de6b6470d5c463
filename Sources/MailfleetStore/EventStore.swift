import Foundation
import MailfleetCore
import MailfleetPostgres

/// Appends events in batches (one statement for many events).
public struct EventStore: Sendable {
    private let pool: PostgresPool

    /// Creates a store over a pool.
    public init(pool: PostgresPool) {
        self.pool = pool
    }

    /// Inserts events in one statement.
    public func insert(_ events: [NewEvent]) async throws {
        guard !events.isEmpty else { return }
        try await pool.withConnection { connection in try EventStore.insert(events, on: connection) }
    }

    /// Inserts events in one statement on a connection (inside a caller's transaction).
    static func insert(_ events: [NewEvent], on connection: PostgresConnection) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let details = try events.map { String(decoding: try encoder.encode($0.detail), as: UTF8.self) }
        try connection.query(
            """
            INSERT INTO events (tenant_id, message_id, type, detail, occurred_at)
            SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::jsonb[], $5::timestamptz[])
            """,
            [events.map(\.tenantID), events.map(\.messageID), events.map(\.type.rawValue), details, events.map(\.occurredAt)])
    }
}
