import Foundation

/// A tenant's sender health as the API and the CLI show it: totals and each From domain over
/// both windows, and the bulk pauses in force with their reasons.
public struct SenderHealthReport: Sendable, Equatable, Codable {
    /// One window's counts and rates (a rate is absent before anything was sent).
    public struct Window: Sendable, Equatable, Codable {
        public var sent: Int
        public var delivered: Int
        public var hardBounced: Int
        public var softBounced: Int
        public var complained: Int
        public var bounceRate: Double?
        public var complaintRate: Double?
        public var deliveryRate: Double?

        enum CodingKeys: String, CodingKey {
            case sent, delivered, complained
            case hardBounced = "hard_bounced", softBounced = "soft_bounced", bounceRate = "bounce_rate"
            case complaintRate = "complaint_rate", deliveryRate = "delivery_rate"
        }

        /// The window of `counts`.
        public init(_ counts: HealthCounts) {
            sent = counts.sent
            delivered = counts.delivered
            hardBounced = counts.hardBounced
            softBounced = counts.softBounced
            complained = counts.complained
            bounceRate = counts.bounceRate
            complaintRate = counts.complaintRate
            deliveryRate = counts.deliveryRate
        }
    }

    /// One From domain.
    public struct Domain: Sendable, Equatable, Codable {
        public var domain: String
        public var last1h: Window
        public var last24h: Window
        /// True when this domain's bulk mail is held (by its own pause or the tenant's).
        public var bulkPaused: Bool

        enum CodingKeys: String, CodingKey {
            case domain
            case last1h = "last_1h", last24h = "last_24h", bulkPaused = "bulk_paused"
        }
    }

    /// A pause in force.
    public struct Pause: Sendable, Equatable, Codable {
        /// The paused From domain; absent for the tenant's whole bulk lane.
        public var domain: String?
        public var reason: String
        public var pausedAt: String

        enum CodingKeys: String, CodingKey {
            case domain, reason
            case pausedAt = "paused_at"
        }

        /// The view of `pause`.
        public init(_ pause: BulkPause) {
            domain = pause.domain == BulkPause.wholeTenant ? nil : pause.domain
            reason = pause.reason
            pausedAt = ISO8601.format(pause.pausedAt)
        }
    }

    public var tenantID: String
    /// True when any of the tenant's bulk mail is held.
    public var bulkPaused: Bool
    public var last1h: Window
    public var last24h: Window
    public var domains: [Domain]
    public var pauses: [Pause]

    enum CodingKeys: String, CodingKey {
        case domains, pauses
        case tenantID = "tenant_id", bulkPaused = "bulk_paused", last1h = "last_1h", last24h = "last_24h"
    }

    /// The report of one tenant's `health` (its domains) and `pauses` (those in force).
    public init(tenantID: UUID, health: [DomainHealth], pauses: [BulkPause]) {
        self.tenantID = tenantID.lowercasedString
        let paused = Set(pauses.map(\.domain))
        bulkPaused = !pauses.isEmpty
        last1h = Window(health.reduce(HealthCounts()) { $0 + $1.hour })
        last24h = Window(health.reduce(HealthCounts()) { $0 + $1.day })
        domains = health.sorted { $0.domain < $1.domain }.map { entry in
            Domain(
                domain: entry.domain, last1h: Window(entry.hour), last24h: Window(entry.day),
                bulkPaused: BulkPause.holding(fromDomain: entry.domain, paused: paused) != nil)
        }
        self.pauses = pauses.map(Pause.init)
    }
}
