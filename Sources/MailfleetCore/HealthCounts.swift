import Foundation

/// What happened to a sender's mail over one window: sent by us, then what providers reported.
public struct HealthCounts: Sendable, Equatable, Codable {
    /// Messages a provider accepted.
    public var sent: Int
    /// Deliveries providers reported.
    public var delivered: Int
    /// Hard (permanent) bounces providers reported.
    public var hardBounced: Int
    /// Soft (temporary) bounces providers reported.
    public var softBounced: Int
    /// Spam complaints providers reported.
    public var complained: Int

    /// Creates counts; all zero by default.
    public init(sent: Int = 0, delivered: Int = 0, hardBounced: Int = 0, softBounced: Int = 0, complained: Int = 0) {
        self.sent = sent
        self.delivered = delivered
        self.hardBounced = hardBounced
        self.softBounced = softBounced
        self.complained = complained
    }

    /// Hard bounces per message sent; nil before anything was sent.
    public var bounceRate: Double? {
        sent > 0 ? Double(hardBounced) / Double(sent) : nil
    }

    /// Complaints per message sent; nil before anything was sent. Sent, not delivered, is the
    /// denominator: every account counts its sends, while delivery reports depend on which
    /// webhook events a tenant turned on (docs/TRACKING.md, Sender health).
    public var complaintRate: Double? {
        sent > 0 ? Double(complained) / Double(sent) : nil
    }

    /// Deliveries per message sent; nil before anything was sent.
    public var deliveryRate: Double? {
        sent > 0 ? Double(delivered) / Double(sent) : nil
    }

    /// The sum of two counts.
    public static func + (lhs: HealthCounts, rhs: HealthCounts) -> HealthCounts {
        HealthCounts(
            sent: lhs.sent + rhs.sent, delivered: lhs.delivered + rhs.delivered, hardBounced: lhs.hardBounced + rhs.hardBounced,
            softBounced: lhs.softBounced + rhs.softBounced, complained: lhs.complained + rhs.complained)
    }
}
