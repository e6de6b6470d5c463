import Foundation

/// When a sender's bulk mail pauses by itself: a complaint rate above 0.3 % (the limit Gmail
/// and Yahoo state) or a hard-bounce rate above a configured share, in either window, once the
/// window holds at least a minimum number of sent messages (a handful of sends proves nothing).
public struct HealthPolicy: Sendable, Equatable {
    /// Complaints per sent message above which bulk pauses.
    public var complaintThreshold: Double
    /// Hard bounces per sent message above which bulk pauses.
    public var bounceThreshold: Double
    /// Sent messages a window must hold before its rates count.
    public var minimumVolume: Int

    /// The complaint limit Gmail and Yahoo state for bulk senders.
    public static let mailboxProviderComplaintLimit = 0.003

    /// Creates a policy.
    public init(complaintThreshold: Double = HealthPolicy.mailboxProviderComplaintLimit, bounceThreshold: Double = 0.05, minimumVolume: Int = 500) {
        self.complaintThreshold = complaintThreshold
        self.bounceThreshold = bounceThreshold
        self.minimumVolume = minimumVolume
    }

    /// Why bulk should pause given one window's counts, or nil when it may go on.
    public func pauseReason(_ counts: HealthCounts, over window: HealthWindow) -> String? {
        guard counts.sent >= minimumVolume else { return nil }
        if let rate = counts.complaintRate, rate > complaintThreshold {
            return "complaint rate \(Self.percent(rate)) over \(window.rawValue) (\(counts.complained) of \(counts.sent) sent) is above \(Self.percent(complaintThreshold))"
        }
        if let rate = counts.bounceRate, rate > bounceThreshold {
            return "hard bounce rate \(Self.percent(rate)) over \(window.rawValue) (\(counts.hardBounced) of \(counts.sent) sent) is above \(Self.percent(bounceThreshold))"
        }
        return nil
    }

    /// Why bulk should pause given both windows' counts (the hour first: it is the fresher).
    public func pauseReason(hour: HealthCounts, day: HealthCounts) -> String? {
        pauseReason(hour, over: .hour) ?? pauseReason(day, over: .day)
    }

    /// The pauses `health` calls for: each sending domain over its own counts, and each tenant
    /// over the sum of its domains (`BulkPause.wholeTenant`), in a stable order.
    public func pauses(_ health: [DomainHealth]) -> [(tenantID: UUID, domain: String, reason: String)] {
        pauses(domains: health, tenants: health)
    }

    /// The pauses called for when each domain is judged over `domains` and each tenant over the
    /// sum of its rows in `tenants`: the two differ after a resume, since resuming one domain
    /// restarts that domain's judgement only, and resuming the tenant restarts both.
    public func pauses(domains: [DomainHealth], tenants tenantRows: [DomainHealth]) -> [(tenantID: UUID, domain: String, reason: String)] {
        var result: [(tenantID: UUID, domain: String, reason: String)] = []
        for entry in domains.sorted(by: { ($0.tenantID.uuidString, $0.domain) < ($1.tenantID.uuidString, $1.domain) }) {
            if let reason = pauseReason(hour: entry.hour, day: entry.day) {
                result.append((entry.tenantID, entry.domain, "\(entry.domain): \(reason)"))
            }
        }
        var tenants: [UUID: (hour: HealthCounts, day: HealthCounts)] = [:]
        for entry in tenantRows {
            let sum = tenants[entry.tenantID] ?? (HealthCounts(), HealthCounts())
            tenants[entry.tenantID] = (sum.hour + entry.hour, sum.day + entry.day)
        }
        for (tenantID, sum) in tenants.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
            if let reason = pauseReason(hour: sum.hour, day: sum.day) {
                result.append((tenantID, BulkPause.wholeTenant, "tenant: \(reason)"))
            }
        }
        return result
    }

    /// A rate as a percentage with up to two decimals, e.g. `0.3%`.
    public static func percent(_ rate: Double) -> String {
        let hundredths = (rate * 10_000).rounded() / 100
        return hundredths == hundredths.rounded() ? "\(Int(hundredths))%" : "\(hundredths)%"
    }
}
