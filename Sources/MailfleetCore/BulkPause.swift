import Foundation

/// A pause of a tenant's bulk mail (or of one sending domain's), set when its health passed a
/// limit and kept until an operator or the tenant's admin key resumes it.
public struct BulkPause: Sendable, Equatable {
    /// The `domain` of a pause of the tenant's whole bulk lane.
    public static let wholeTenant = ""

    /// The tenant.
    public var tenantID: UUID
    /// The paused From domain, or `wholeTenant`.
    public var domain: String
    /// Why it paused (the rate, window and limit).
    public var reason: String
    /// When it paused.
    public var pausedAt: Date

    /// Creates one.
    public init(tenantID: UUID, domain: String, reason: String, pausedAt: Date) {
        self.tenantID = tenantID
        self.domain = domain
        self.reason = reason
        self.pausedAt = pausedAt
    }

    /// Why a held bulk message waits.
    public static func waitingReason(domain: String) -> String {
        domain == wholeTenant
            ? "bulk sending of the tenant is paused (sender health); held until resumed"
            : "bulk sending from \(domain) is paused (sender health); held until resumed"
    }

    /// The pause that holds a bulk message from `fromDomain` among a tenant's `paused` domains, if any.
    public static func holding(fromDomain: String, paused: Set<String>) -> String? {
        if paused.contains(wholeTenant) { return wholeTenant }
        return paused.contains(fromDomain) ? fromDomain : nil
    }
}
