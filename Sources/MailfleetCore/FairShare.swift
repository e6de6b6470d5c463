/// Weighted deficit round robin between the tenants of one queue partition: the pure twin of
/// `MessageQueue`'s fetch script, which a test runs against it on random inputs.
///
/// Each lane keeps a ring of the tenants with ready work and a FIFO per tenant. A visit to the
/// tenant at the head of the ring gives it `quantum × weight` entries (less what an earlier
/// fetch left unused), then the tenant goes to the back; a tenant whose FIFO empties leaves
/// the ring. A fetch fills transactional first, except that bulk keeps a minimum share of every
/// fetch while it has work. Entries of the old layout (no tenant known) sit in one legacy FIFO
/// per lane that a fetch drains first, before the ring.
///
/// Bulk lingers: a tenant's bulk entries are passed over (the tenant goes to the back of the
/// ring, keeping what is left of its visit) until they are ripe: `linger` has passed since the
/// newest arrived, or `4 × linger` since the oldest, or `full` are waiting, so messages that can
/// share a provider call are fetched together. A fetch passes over at most `maxPasses` tenants
/// in a row, so its cost does not grow with the number of tenants waiting.
public struct FairShare: Sendable, Equatable {
    /// One lane's state.
    public struct Lane: Sendable, Equatable {
        /// When a tenant's waiting entries arrived (ms): the oldest still waiting, the newest.
        public struct Arrival: Sendable, Equatable {
            public var first: Int
            public var last: Int
        }
        /// Entries whose tenant is unknown, served first.
        public var legacy: [String] = []
        /// Tenants with ready work, in visiting order.
        public var ring: [String] = []
        /// Each tenant's ready entries, oldest first.
        public var queues: [String: [String]] = [:]
        /// What a tenant at the head of the ring has left of its visit.
        public var deficits: [String: Int] = [:]
        /// When each tenant's list last became non-empty, and when an entry last joined it (ms).
        public var arrivals: [String: Arrival] = [:]
        /// An empty lane.
        public init() {}
    }

    /// The transactional lane.
    public var transactional = Lane()
    /// The bulk lane.
    public var bulk = Lane()
    /// Weights of tenants that do not have the default of 1.
    public var weights: [String: Int]
    /// Entries a tenant of weight 1 gets per visit.
    public var quantum: Int

    /// An empty partition.
    public init(quantum: Int, weights: [String: Int] = [:]) {
        self.quantum = max(1, quantum)
        self.weights = weights
    }

    /// Most tenants in a row a fetch passes over because their bulk is not ripe.
    public static let maxPasses = 64

    /// Appends entries to a tenant's FIFO in `lane` at `nowMs` (at the front when `front`, in
    /// the order a Redis `LPUSH` leaves them); the tenant joins the back of the ring if it had none.
    /// Entries coming `back` (promoted or reclaimed: gathered once already) make a list they
    /// start ripe at once.
    public mutating func push(_ entries: [String], tenant: String, lane: Priority, front: Bool = false, nowMs: Int = 0, back: Bool = false) {
        guard !entries.isEmpty else { return }
        update(lane) { state in
            let had = !(state.queues[tenant] ?? []).isEmpty
            if front { state.queues[tenant, default: []].insert(contentsOf: entries.reversed(), at: 0) } else { state.queues[tenant, default: []] += entries }
            if !had { state.ring.append(tenant) }
            // Only bulk lingers, so only its arrivals are kept.
            if lane == .bulk {
                let first = had ? state.arrivals[tenant]?.first ?? nowMs : (back ? 0 : nowMs)
                state.arrivals[tenant] = Lane.Arrival(first: first, last: nowMs)
            }
        }
    }

    /// How bulk lingers (see the type): nothing waits with a `lingerMs` of 0.
    public struct Linger: Sendable, Equatable {
        /// The time now, in milliseconds.
        public var nowMs: Int
        /// Quiet time after the newest arrival.
        public var lingerMs: Int
        /// Entries that are ripe whatever their age.
        public var full: Int
        /// Nothing lingers.
        public static let none = Linger(nowMs: 0, lingerMs: 0, full: 1)
        /// A linger of `lingerMs` at `nowMs`.
        public init(nowMs: Int, lingerMs: Int, full: Int) {
            self.nowMs = nowMs
            self.lingerMs = lingerMs
            self.full = full
        }

        func ripe(count: Int, arrival: Lane.Arrival?) -> Bool {
            guard lingerMs > 0, count < full, let arrival else { return true }
            return nowMs - arrival.last >= lingerMs || nowMs - arrival.first >= 4 * lingerMs
        }
    }

    /// The bulk entries a fetch of `max` keeps for bulk while bulk has work: `percent` of it,
    /// rounded up, but never the whole fetch (so a fetch of one still serves transactional first).
    public static func bulkReserve(max: Int, percent: Int) -> Int {
        guard max > 1, percent > 0 else { return 0 }
        return min(max - 1, (max * min(percent, 100) + 99) / 100)
    }

    /// Takes up to `max` entries: transactional up to `max` less the bulk reserve, then bulk,
    /// then transactional again into whatever bulk left.
    public mutating func fetch(max: Int, bulkMinimumPercent: Int, linger: Linger = .none) -> [String] {
        var out: [String] = []
        let reserve = Self.bulkReserve(max: max, percent: bulkMinimumPercent)
        take(.transactional, upTo: max - reserve, into: &out, linger: .none)
        take(.bulk, upTo: max, into: &out, linger: linger)
        take(.transactional, upTo: max, into: &out, linger: .none)
        return out
    }

    /// Entries ready in `lane`.
    public func count(_ lane: Priority) -> Int {
        let state = lane == .transactional ? transactional : bulk
        return state.legacy.count + state.queues.values.reduce(0) { $0 + $1.count }
    }

    private mutating func take(_ lane: Priority, upTo limit: Int, into out: inout [String], linger: Linger) {
        guard out.count < limit else { return }
        let weights = self.weights
        let quantum = self.quantum
        update(lane) { state in
            let legacy = state.legacy.prefix(limit - out.count)
            out += legacy
            state.legacy.removeFirst(legacy.count)
            var passes = 0
            while out.count < limit, let tenant = state.ring.first {
                let queue = state.queues[tenant] ?? []
                if !queue.isEmpty, !linger.ripe(count: queue.count, arrival: state.arrivals[tenant]) {
                    if passes >= Swift.min(Self.maxPasses, state.ring.count) { break }
                    passes += 1
                    state.ring.append(state.ring.removeFirst())
                    continue
                }
                passes = 0
                var deficit = state.deficits[tenant] ?? 0
                if deficit <= 0 { deficit = quantum * Swift.max(1, weights[tenant] ?? 1) }
                let taken = queue.prefix(Swift.min(deficit, limit - out.count))
                out += taken
                deficit -= taken.count
                let rest = Array(queue.dropFirst(taken.count))
                state.queues[tenant] = rest.isEmpty ? nil : rest
                if rest.isEmpty {
                    state.ring.removeFirst()
                    state.deficits[tenant] = nil
                    state.arrivals[tenant] = nil
                    continue
                }
                // Once ripe, the rest of the list stays ripe until it empties: a campaign is
                // not held back again halfway.
                if linger.lingerMs > 0 {
                    let ripeSince = linger.nowMs - 4 * linger.lingerMs
                    state.arrivals[tenant] = Lane.Arrival(first: ripeSince, last: state.arrivals[tenant]?.last ?? ripeSince)
                }
                if deficit <= 0 {
                    state.ring.append(state.ring.removeFirst())
                    state.deficits[tenant] = nil
                } else {
                    state.deficits[tenant] = deficit
                }
            }
        }
    }

    private mutating func update(_ lane: Priority, _ body: (inout Lane) -> Void) {
        switch lane {
        case .transactional: body(&transactional)
        case .bulk: body(&bulk)
        }
    }
}
