import Foundation
import MailfleetPostgres

extension MessageStore {
    /// Pushes the lease of messages still being sent under a live lease to `lease` seconds from
    /// now, in one statement; returns how many were extended. A message already recorded
    /// (sent, deferred, failed) is not `sending` any more and is left alone, and a lease that
    /// already lapsed is not revived: another worker may have claimed the message since.
    @discardableResult
    public func renewLeases(_ ids: [UUID], lease: Double) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let rows = try await pool.query(
            """
            WITH renewed AS (
                UPDATE messages SET lease_until = now() + make_interval(secs => $2)
                WHERE id = ANY($1::uuid[]) AND status = 'queued' AND lease_until > now()
                  AND lease_until < now() + make_interval(secs => $2)
                RETURNING 1
            )
            SELECT count(*) AS n FROM renewed
            """, [ids, lease])
        return try rows.first?.int("n") ?? 0
    }
}
