/// A tenant's message quotas: how many messages it may have accepted per UTC day and per UTC
/// month; nil is unlimited.
public struct TenantQuota: Sendable, Equatable, Codable {
    /// Messages per UTC day, or nil.
    public var daily: Int?
    /// Messages per UTC month, or nil.
    public var monthly: Int?

    /// Creates quotas (both unlimited by default).
    public init(daily: Int? = nil, monthly: Int? = nil) {
        self.daily = daily
        self.monthly = monthly
    }

    /// The limit of one period.
    public func limit(_ period: QuotaPeriod) -> Int? {
        period == .daily ? daily : monthly
    }

    /// True when neither period is limited.
    public var isUnlimited: Bool { daily == nil && monthly == nil }
}
