import Foundation

/// A delivery a dispatcher claimed: the event and the endpoint it goes to.
public struct WebhookClaim: Sendable, Equatable {
    /// The event as it will be posted.
    public var message: WebhookMessage
    /// The endpoint.
    public var endpointID: UUID
    /// Attempts made before this one.
    public var attempts: Int

    /// Creates one.
    public init(message: WebhookMessage, endpointID: UUID, attempts: Int) {
        self.message = message
        self.endpointID = endpointID
        self.attempts = attempts
    }
}

/// One request to make: deliveries of one endpoint, one or (batching endpoints) several.
public struct WebhookRequestPlan: Sendable, Equatable {
    /// The endpoint.
    public var endpointID: UUID
    /// The deliveries it carries, oldest first.
    public var claims: [WebhookClaim]
    /// Whether the body is a JSON array.
    public var batch: Bool

    /// Creates one.
    public init(endpointID: UUID, claims: [WebhookClaim], batch: Bool) {
        self.endpointID = endpointID
        self.claims = claims
        self.batch = batch
    }
}

/// A dispatcher replica's deliveries in hand, per endpoint: which requests may start now, so
/// that an endpoint never has more than `concurrency` requests open from this replica and a
/// slow endpoint holds only its own deliveries. Pure: the dispatcher feeds it claims and
/// finished requests and does what it answers.
public struct WebhookDispatchBoard: Sendable {
    /// How much one endpoint may take.
    public struct Limits: Sendable, Equatable {
        /// Requests open at once to one endpoint.
        public var concurrency: Int
        /// Events per request for an endpoint that takes batches.
        public var batchSize: Int
        /// Requests' worth of deliveries held per endpoint beyond those open; more are given back.
        public var depth: Int
        /// The most deliveries one endpoint may hold waiting, whatever its depth: a share of the
        /// replica's claim budget (two claims), so one slow endpoint with a backlog, batching or
        /// not, cannot fill the budget and stop the claims other endpoints need.
        public var maxWaiting: Int

        /// Creates limits (each at least 1); `maxWaiting` defaults to half a claim (250), a
        /// quarter of the replica's budget.
        public init(concurrency: Int, batchSize: Int, depth: Int = 8, maxWaiting: Int = 250) {
            self.concurrency = max(1, concurrency)
            self.batchSize = max(1, batchSize)
            self.depth = max(1, depth)
            self.maxWaiting = max(1, maxWaiting)
        }
    }

    /// The limits.
    public let limits: Limits
    private var queues: [UUID: [WebhookClaim]] = [:]
    private var batching: [UUID: Bool] = [:]
    private var open: [UUID: Int] = [:]

    /// An empty board.
    public init(limits: Limits) {
        self.limits = limits
    }

    /// Deliveries held waiting for one endpoint at most.
    public func capacity(batch: Bool) -> Int { min(limits.maxWaiting, limits.concurrency * limits.depth * (batch ? limits.batchSize : 1)) }

    /// Takes newly claimed deliveries of endpoints (`batch` says which endpoints take batches);
    /// answers the ones beyond an endpoint's capacity, to be given back at once.
    public mutating func admit(_ claims: [WebhookClaim], batch: [UUID: Bool]) -> [WebhookClaim] {
        var surplus: [WebhookClaim] = []
        for claim in claims {
            let endpoint = claim.endpointID
            let batches = batch[endpoint] ?? false
            batching[endpoint] = batches
            if queues[endpoint, default: []].count >= capacity(batch: batches) {
                surplus.append(claim)
            } else {
                queues[endpoint, default: []].append(claim)
            }
        }
        return surplus
    }

    /// Endpoints holding as much as they may: the next claim leaves them out.
    public var full: [UUID] {
        queues.compactMap { endpoint, queue in queue.count >= capacity(batch: batching[endpoint] ?? false) ? endpoint : nil }
    }

    /// Requests that may start now, each in a slot of its endpoint that stays open until
    /// `next(after:)` answers nil for it.
    public mutating func start() -> [WebhookRequestPlan] {
        var plans: [WebhookRequestPlan] = []
        for endpoint in queues.keys.sorted(by: { $0.uuidString < $1.uuidString }) {
            while open[endpoint, default: 0] < limits.concurrency, let plan = take(endpoint) {
                open[endpoint, default: 0] += 1
                plans.append(plan)
            }
        }
        return plans
    }

    /// A request of `endpoint` ended (whatever its outcome): the next request for its slot, or
    /// nil when the endpoint has nothing waiting, which closes the slot.
    public mutating func next(after endpoint: UUID) -> WebhookRequestPlan? {
        if let plan = take(endpoint) { return plan }
        open[endpoint, default: 1] -= 1
        if open[endpoint, default: 0] <= 0 { forget(endpoint) }
        return nil
    }

    private mutating func take(_ endpoint: UUID) -> WebhookRequestPlan? {
        guard let queue = queues[endpoint], !queue.isEmpty else { return nil }
        let batches = batching[endpoint] ?? false
        let taken = Array(queue.prefix(batches ? limits.batchSize : 1))
        queues[endpoint] = Array(queue.dropFirst(taken.count))
        return WebhookRequestPlan(endpointID: endpoint, claims: taken, batch: batches)
    }

    /// Endpoints with deliveries waiting or requests open.
    public var endpointIDs: [UUID] { Array(queues.keys) }

    /// Takes out and answers an endpoint's waiting deliveries (it was disabled or deleted);
    /// its open requests still end through `next(after:)`, which then closes their slots.
    public mutating func remove(_ endpoint: UUID) -> [WebhookClaim] {
        let waiting = queues[endpoint] ?? []
        if open[endpoint, default: 0] == 0 { forget(endpoint) } else { queues[endpoint] = [] }
        return waiting
    }

    /// Deliveries waiting (not yet in a request).
    public var waiting: Int { queues.values.reduce(0) { $0 + $1.count } }

    /// Requests open.
    public var openRequests: Int { open.values.reduce(0, +) }

    /// Empties the waiting queues and answers what they held (to be given back on shutdown).
    public mutating func drain() -> [WebhookClaim] {
        let all = queues.values.flatMap { $0 }
        for endpoint in queues.keys {
            if open[endpoint, default: 0] == 0 { forget(endpoint) } else { queues[endpoint] = [] }
        }
        return all
    }

    private mutating func forget(_ endpoint: UUID) {
        queues[endpoint] = nil
        batching[endpoint] = nil
        open[endpoint] = nil
    }
}
