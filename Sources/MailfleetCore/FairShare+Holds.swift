import Foundation

extension FairShare {
    /// A tenant a send limit (its messages per second, a warm-up cap) held in one lane, as the
    /// queue holds it: out of the lane's turns for `waitMs`, then with turns of at most
    /// `allowance` entries per partition (doubling each turn), so the tenant waits in the queue
    /// and not in a worker's lane.
    public struct TenantHold: Sendable, Equatable {
        public var tenantID: UUID
        public var lane: Priority
        /// Until the soonest of its holding limits frees a token, in milliseconds.
        public var waitMs: Int
        /// The limit's interval between tokens, in milliseconds (0 for a daily cap): partitions
        /// come back this far apart, so a tenant's mail spread over them does not all come back
        /// for the same token.
        public var stepMs: Int
        /// The most the tenant's next turn takes in each partition (at least 1).
        public var allowance: Int

        /// Creates a hold.
        public init(tenantID: UUID, lane: Priority, waitMs: Int, stepMs: Int = 0, allowance: Int = 1) {
            self.tenantID = tenantID
            self.lane = lane
            self.waitMs = max(0, waitMs)
            self.stepMs = max(0, stepMs)
            self.allowance = max(1, allowance)
        }
    }

    /// A message a tenant's own limit held in a round.
    public struct TenantLimited: Sendable, Equatable {
        public var tenantID: UUID
        public var lane: Priority
        /// Microseconds until the holding limit's next free token.
        public var nextFreeUs: Int
        /// The holding limit's interval between tokens in microseconds (0 for a daily cap).
        public var intervalUs: Int
        /// Creates one.
        public init(tenantID: UUID, lane: Priority, nextFreeUs: Int, intervalUs: Int) {
            self.tenantID = tenantID
            self.lane = lane
            self.nextFreeUs = nextFreeUs
            self.intervalUs = intervalUs
        }
    }

    /// The holds a round's tenant-limited messages call for: one per tenant and lane, until the
    /// soonest free token among the limits that held it; its next turn in each of `partitions`
    /// takes its share of what the round admitted of it in that lane (`admitted`), at least 1.
    public static func tenantHolds(_ limited: [TenantLimited], admitted: [UUID: [Priority: Int]], partitions: Int) -> [TenantHold] {
        var soonest: [TenantLane: (nextFreeUs: Int, intervalUs: Int)] = [:]
        for message in limited {
            let key = TenantLane(tenantID: message.tenantID, lane: message.lane)
            if let known = soonest[key], known.nextFreeUs <= message.nextFreeUs { continue }
            soonest[key] = (message.nextFreeUs, message.intervalUs)
        }
        return soonest.map { key, hold in
            let sent = admitted[key.tenantID]?[key.lane] ?? 0
            return TenantHold(
                tenantID: key.tenantID, lane: key.lane, waitMs: (hold.nextFreeUs + 999) / 1000, stepMs: hold.intervalUs / 1000,
                allowance: max(1, sent / max(1, partitions)))
        }.sorted { ($0.tenantID.uuidString, $0.lane.code) < ($1.tenantID.uuidString, $1.lane.code) }
    }

    private struct TenantLane: Hashable {
        var tenantID: UUID
        var lane: Priority
    }
}
