import Foundation
import MailfleetStore

/// Coalesces the suppression checks of concurrent requests into one query, as `AcceptPipeline`
/// coalesces their commits: a lookup per request would cost each single send its own Postgres
/// round trips and cap the API near the pool's round-trip rate.
public actor SuppressionLookup {
    private let store: SuppressionStore
    private let maxConcurrentQueries: Int
    private var pending: [(tenantID: UUID, emails: [String], continuation: CheckedContinuation<Set<String>, Error>)] = []
    private var running = 0

    /// Creates a lookup over a store.
    public init(store: SuppressionStore, maxConcurrentQueries: Int = 2) {
        self.store = store
        self.maxConcurrentQueries = maxConcurrentQueries
    }

    /// Which of `emails` (normalised) the tenant suppresses.
    public func suppressed(tenantID: UUID, among emails: [String]) async throws -> Set<String> {
        guard !emails.isEmpty else { return [] }
        return try await withCheckedThrowingContinuation { continuation in
            pending.append((tenantID, emails, continuation))
            if running < maxConcurrentQueries { startQuery() }
        }
    }

    private func startQuery() {
        guard !pending.isEmpty else { return }
        let group = pending
        pending = []
        running += 1
        Task { await self.run(group) }
    }

    private func run(_ group: [(tenantID: UUID, emails: [String], continuation: CheckedContinuation<Set<String>, Error>)]) async {
        var tenantIDs: [UUID] = []
        var emails: [String] = []
        for entry in group {
            for email in entry.emails {
                tenantIDs.append(entry.tenantID)
                emails.append(email)
            }
        }
        do {
            let found = try await store.suppressedPairs(tenantIDs: tenantIDs, emails: emails)
            for entry in group {
                let mine = Set(entry.emails.filter { found.contains(SuppressionKey(tenantID: entry.tenantID, email: $0)) })
                entry.continuation.resume(returning: mine)
            }
        } catch {
            for entry in group { entry.continuation.resume(throwing: error) }
        }
        running -= 1
        if !pending.isEmpty { startQuery() }
    }
}
