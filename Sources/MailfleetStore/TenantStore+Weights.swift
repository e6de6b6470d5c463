import Foundation
import MailfleetCore
import MailfleetPostgres

extension TenantStore {
    /// The weights a tenant may have in the fair share of a lane.
    public static let sendWeights = 1...1000

    /// Sets a tenant's fair-share weight, audited; false when there is no such tenant. The
    /// scheduler publishes it to the queue within a few seconds.
    @discardableResult
    public func setSendWeight(tenantID: UUID, weight: Int, actor: String = "system") async throws -> Bool {
        guard Self.sendWeights.contains(weight) else {
            throw AdminError(.invalid, "a weight is from \(Self.sendWeights.lowerBound) to \(Self.sendWeights.upperBound); \(weight) is not")
        }
        return try await setColumn("send_weight", to: weight, tenantID: tenantID, actor: actor)
    }

    /// A tenant's fair-share weight, nil when there is no such tenant.
    public func sendWeight(tenantID: UUID) async throws -> Int? {
        try await pool.query("SELECT send_weight FROM tenants WHERE id = $1", [tenantID]).first.map { try $0.int("send_weight") }
    }

    /// Every tenant whose weight is not the default 1: what the queue's weight tables hold.
    public func sendWeights() async throws -> [UUID: Int] {
        var weights: [UUID: Int] = [:]
        for row in try await pool.query("SELECT id, send_weight FROM tenants WHERE send_weight <> 1") {
            weights[try row.uuid("id")] = try row.int("send_weight")
        }
        return weights
    }
}
