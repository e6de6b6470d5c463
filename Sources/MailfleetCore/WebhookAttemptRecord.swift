import Foundation

/// Where a webhook delivery stands.
public enum WebhookDeliveryState: String, Sendable, Equatable, CaseIterable {
    /// Waiting for its next attempt.
    case pending
    /// Waiting for its disabled endpoint to be enabled again.
    case held
    /// An attempt was answered 2xx.
    case delivered
    /// Every attempt of the schedule failed.
    case failed
}

/// What one request to an endpoint came to, and what becomes of each delivery it carried:
/// 2xx delivers them all; anything else (another status, a timeout, no connection) sends each
/// back to wait for its next attempt on the schedule, or fails it when the schedule is over.
public struct WebhookAttemptRecord: Sendable, Equatable {
    /// One delivery's next state.
    public struct Delivery: Sendable, Equatable {
        /// The delivery.
        public var id: Int
        /// Its new state.
        public var state: WebhookDeliveryState
        /// When it is tried again, if it is.
        public var nextAttemptAt: Date?

        /// Creates one.
        public init(id: Int, state: WebhookDeliveryState, nextAttemptAt: Date?) {
            self.id = id
            self.state = state
            self.nextAttemptAt = nextAttemptAt
        }
    }

    /// The endpoint.
    public var endpointID: UUID
    /// The endpoint's tenant.
    public var tenantID: UUID
    /// The `webhook-id` sent.
    public var webhookID: String
    /// The status answered, nil when there was none.
    public var status: Int?
    /// How long the request took.
    public var latencyMs: Int
    /// What went wrong, nil when delivered.
    public var error: String?
    /// The deliveries it carried.
    public var deliveries: [Delivery]

    /// Judges one request's result at `now`.
    public init(
        plan: WebhookRequestPlan, tenantID: UUID, status: Int?, transportError: String?, latencyMs: Int, schedule: WebhookRetrySchedule, now: Date,
        using generator: inout some RandomNumberGenerator
    ) {
        endpointID = plan.endpointID
        self.tenantID = tenantID
        webhookID = WebhookMessage.webhookID(of: plan.claims.map(\.message))
        self.status = status
        self.latencyMs = latencyMs
        let delivered = transportError == nil && status.map { (200...299).contains($0) } == true
        error = delivered ? nil : (transportError ?? "HTTP \(status ?? 0)")
        deliveries = plan.claims.map { claim in
            if delivered { return Delivery(id: claim.message.deliveryID, state: .delivered, nextAttemptAt: nil) }
            guard let wait = schedule.delay(afterAttempt: claim.attempts + 1, using: &generator) else {
                return Delivery(id: claim.message.deliveryID, state: .failed, nextAttemptAt: nil)
            }
            return Delivery(id: claim.message.deliveryID, state: .pending, nextAttemptAt: now.addingTimeInterval(wait))
        }
    }

    /// Whether the endpoint took it.
    public var delivered: Bool { error == nil }

    /// `delivered`; `failed` when a delivery it carried has no attempt left; else `retrying`.
    public var outcome: String {
        if delivered { return "delivered" }
        return deliveries.contains { $0.state == .failed } ? "failed" : "retrying"
    }
}
