import Foundation

/// One tenant's quota decisions for one commit: admits requests in order, each whole or not at
/// all, against its limits and what it has used in the periods holding `now`. Pure: the store
/// reads the limits and counts under a row lock, asks this, and writes back `added`.
public struct QuotaLedger: Sendable, Equatable {
    /// The tenant's quotas.
    public let quota: TenantQuota
    /// The moment deciding which periods count.
    public let now: Date
    /// Messages counted so far in each period (stored plus admitted here).
    public private(set) var used: [QuotaPeriod: Int]
    /// Messages admitted by this ledger (what the store adds to each period's count).
    public private(set) var added = 0

    /// A ledger over usage already stored for the periods holding `now`.
    public init(quota: TenantQuota, usedToday: Int, usedThisMonth: Int, now: Date) {
        self.quota = quota
        self.now = now
        used = [.daily: usedToday, .monthly: usedThisMonth]
    }

    /// Admits `count` messages and counts them, or refuses them all (counting nothing) when
    /// they would take a period past its limit. Zero messages are always admitted.
    public mutating func admit(_ count: Int) -> QuotaRefusal? {
        guard count > 0 else { return nil }
        for period in QuotaPeriod.allCases {
            guard let limit = quota.limit(period) else { continue }
            let before = used[period] ?? 0
            if before + count > limit {
                return QuotaRefusal(period: period, limit: limit, used: before, requested: count, resetsAt: period.end(of: now))
            }
        }
        for period in QuotaPeriod.allCases { used[period, default: 0] += count }
        added += count
        return nil
    }

    /// How many more messages every period would admit now; nil when the tenant has no quota.
    /// A sender that can choose its batch (a campaign's chunk) asks this first, so it sends what
    /// the quota leaves instead of waiting for a period that would never admit a whole chunk.
    public var remaining: Int? {
        QuotaPeriod.allCases.compactMap { period in quota.limit(period).map { max(0, $0 - (used[period] ?? 0)) } }.min()
    }

    /// Where the tenant stands in `period`.
    public func usage(_ period: QuotaPeriod) -> QuotaUsage {
        QuotaUsage(period: period, limit: quota.limit(period), used: used[period] ?? 0, resetsAt: period.end(of: now))
    }
}

/// A tenant's standing in one quota period, as the API, the CLI and metrics show it.
public struct QuotaUsage: Sendable, Equatable {
    /// The period.
    public var period: QuotaPeriod
    /// Its limit, or nil when unlimited.
    public var limit: Int?
    /// Messages counted in it.
    public var used: Int
    /// When it ends and its count starts again from zero.
    public var resetsAt: Date

    /// Creates a standing.
    public init(period: QuotaPeriod, limit: Int?, used: Int, resetsAt: Date) {
        self.period = period
        self.limit = limit
        self.used = used
        self.resetsAt = resetsAt
    }

    /// Messages still allowed, or nil when unlimited.
    public var remaining: Int? { limit.map { max(0, $0 - used) } }

    /// The share of the limit used (0 for unlimited).
    public var fraction: Double {
        guard let limit, limit > 0 else { return 0 }
        return Double(used) / Double(limit)
    }

    /// Where the standing puts the tenant for alerting: nil while under 80 % (or unlimited).
    public var level: Level? {
        guard let limit else { return nil }
        if used >= limit { return .reached }
        return fraction >= Level.nearShare ? .near : nil
    }

    /// A tenant close to or at its quota.
    public enum Level: String, Sendable, CaseIterable {
        /// At least 80 % used.
        case near
        /// Nothing left: further requests are refused until the period ends.
        case reached

        /// The share of a limit from which a tenant is `near`.
        public static let nearShare = 0.8
    }
}

/// Why a request was refused over quota: its numbers, for the 429 answer.
public struct QuotaRefusal: Sendable, Equatable, Error {
    /// The period whose limit it would cross.
    public var period: QuotaPeriod
    /// That period's limit.
    public var limit: Int
    /// Messages already counted in it.
    public var used: Int
    /// Messages the request holds.
    public var requested: Int
    /// When the period ends, the earliest moment a retry can be admitted.
    public var resetsAt: Date

    /// Creates a refusal.
    public init(period: QuotaPeriod, limit: Int, used: Int, requested: Int, resetsAt: Date) {
        self.period = period
        self.limit = limit
        self.used = used
        self.requested = requested
        self.resetsAt = resetsAt
    }

    /// What the caller is told.
    public var message: String {
        let name = period == .daily ? "daily" : "monthly"
        let reset = period == .daily ? "at 00:00 UTC" : "on the 1st at 00:00 UTC"
        return "over the \(name) quota: \(used) of \(limit) messages used, this request holds \(requested); the \(name) count resets \(reset) (\(ISO8601.format(resetsAt)))"
    }

    /// Whole seconds from `now` until the period ends (at least 1), for Retry-After.
    public func retryAfterSeconds(from now: Date) -> Int {
        max(1, Int(resetsAt.timeIntervalSince(now).rounded(.up)))
    }
}
