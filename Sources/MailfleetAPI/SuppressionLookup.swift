import Foundation
import MailfleetCore
import MailfleetRuntime
import MailfleetStore

/// Coalesces the suppression checks of concurrent requests into one query, as `AcceptPipeline`
/// coalesces their commits: a lookup per request would cost each single send its own Postgres
/// round trips and cap the API near the pool's round-trip rate.
public struct SuppressionLookup: Sendable {
    private struct Lookup: Sendable {
        var tenantID: UUID
        var emails: [String]
    }

    private let lookups: GroupCommit<Lookup, Set<String>>

    /// Creates a lookup over a store.
    public init(store: SuppressionStore, maxConcurrentQueries: Int = 2) {
        lookups = GroupCommit(policy: GroupCommitPolicy(maxConcurrentGroups: maxConcurrentQueries)) { group in
            try await Self.query(group, store: store)
        }
    }

    /// Which of `emails` (normalised) the tenant suppresses.
    public func suppressed(tenantID: UUID, among emails: [String]) async throws -> Set<String> {
        guard !emails.isEmpty else { return [] }
        return try await lookups.submit(Lookup(tenantID: tenantID, emails: emails))
    }

    private static func query(_ group: [Lookup], store: SuppressionStore) async throws -> [Set<String>] {
        var tenantIDs: [UUID] = []
        var emails: [String] = []
        for lookup in group {
            for email in lookup.emails {
                tenantIDs.append(lookup.tenantID)
                emails.append(email)
            }
        }
        let found = try await store.suppressedPairs(tenantIDs: tenantIDs, emails: emails)
        return group.map { lookup in
            Set(lookup.emails.filter { found.contains(SuppressionKey(tenantID: lookup.tenantID, email: $0)) })
        }
    }
}
