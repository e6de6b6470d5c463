import Foundation

/// Spreads messages over queue partitions. Each partition's Redis keys share one hash tag, so
/// they live in one Redis Cluster slot, and different partitions spread across nodes.
public struct Partitioning: Sendable, Equatable {
    /// How many partitions exist. Fixed for the life of a deployment's queued data.
    public let count: Int

    /// Creates a partitioning with `count` partitions (at least one).
    public init(count: Int) {
        self.count = max(1, count)
    }

    /// The partition a message belongs to: a stable function of its id.
    public func partition(of id: UUID) -> Int {
        let u = id.uuid
        let value = UInt32(u.12) << 24 | UInt32(u.13) << 16 | UInt32(u.14) << 8 | UInt32(u.15)
        return Int(value % UInt32(count))
    }
}
