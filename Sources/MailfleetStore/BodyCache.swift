import Foundation
import MailfleetCore
import Synchronization

/// Message bodies already read from Postgres, bounded in bytes. Bodies are immutable (their
/// key is the hash of their content), so a cached body is never stale.
///
/// Two generations approximate least-recently-used cheaply: lookups hit the current
/// generation or promote from the previous one; when the current one outgrows half the
/// budget it becomes the previous one and the oldest generation is dropped.
final class BodyCache: Sendable {
    /// A body's identity: bodies are stored per tenant.
    struct Key: Hashable, Sendable {
        var tenantID: UUID
        var key: String
    }

    private struct Generations {
        var current: [Key: (body: MessageBody, bytes: Int)] = [:]
        var currentBytes = 0
        var previous: [Key: (body: MessageBody, bytes: Int)] = [:]
    }

    private let budgetBytes: Int
    private let state = Mutex(Generations())

    init(budgetBytes: Int) {
        self.budgetBytes = budgetBytes
    }

    subscript(key: Key) -> MessageBody? {
        state.withLock { g in
            if let hit = g.current[key] { return hit.body }
            guard let old = g.previous.removeValue(forKey: key) else { return nil }
            Self.add(old, for: key, to: &g, budget: budgetBytes)
            return old.body
        }
    }

    func insert(_ body: MessageBody, for key: Key, bytes: Int) {
        guard bytes <= budgetBytes / 2 else { return }
        state.withLock { g in Self.add((body, bytes), for: key, to: &g, budget: budgetBytes) }
    }

    /// Bytes held now (for tests).
    var bytesHeld: Int {
        state.withLock { g in g.currentBytes + g.previous.values.reduce(0) { $0 + $1.bytes } }
    }

    private static func add(_ entry: (body: MessageBody, bytes: Int), for key: Key, to g: inout Generations, budget: Int) {
        if g.current.updateValue(entry, forKey: key) == nil { g.currentBytes += entry.bytes }
        if g.currentBytes > budget / 2 {
            g.previous = g.current
            g.current = [:]
            g.currentBytes = 0
        }
    }
}
