import Foundation
import MailfleetCore
import MailfleetPostgres

extension CampaignStore {
    /// Segment `id` of the tenant compiled into a predicate over contacts aliased `c`, with its
    /// event windows ending at `now`; nil when the tenant has no such segment. Read on the
    /// caller's connection, so a chunk's recipients and the segment it used are one snapshot.
    static func segmentFilter(tenantID: UUID, id: UUID, now: Date, on connection: PostgresConnection) throws -> RecipientFilter? {
        guard let row = try connection.query(
            "SELECT \(SegmentStore.columns) FROM segments WHERE id = $1 AND tenant_id = $2", [id, tenantID]).first else { return nil }
        let segment = try SegmentStore.segment(row)
        let compiled = SegmentSQL.predicate(segment.filter, tenantID: tenantID, now: now, firstParameter: 1)
        return RecipientFilter(sql: compiled.sql, parameters: compiled.parameters)
    }
}
