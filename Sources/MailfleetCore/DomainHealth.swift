import Foundation

/// One tenant's sender health for one sending domain (the From address's domain) over both windows.
public struct DomainHealth: Sendable, Equatable {
    /// The tenant.
    public var tenantID: UUID
    /// The From domain, lowercased.
    public var domain: String
    /// Counts over the last hour.
    public var hour: HealthCounts
    /// Counts over the last 24 hours.
    public var day: HealthCounts

    /// Creates one.
    public init(tenantID: UUID, domain: String, hour: HealthCounts, day: HealthCounts) {
        self.tenantID = tenantID
        self.domain = domain
        self.hour = hour
        self.day = day
    }
}
