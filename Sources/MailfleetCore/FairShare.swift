/// Weighted deficit round robin between the tenants of one queue partition: the pure twin of
/// `MessageQueue`'s fetch script, which a test runs against it on random inputs.
///
/// Each lane keeps a ring of the tenants with ready work and a FIFO per tenant. A visit to the
/// tenant at the head of the ring gives it a turn of `unit × weight` entries (less what an
/// earlier fetch left unused), then the tenant goes to the back; a tenant whose FIFO empties
/// leaves the ring. The unit is `quantum`, made smaller when the heaviest weight would give a
/// turn over `maxTurn`, so no turn is long while shares stay proportional to the weights. A
/// fetch fills transactional first, except that bulk keeps a minimum share of every
/// fetch while it has work. Entries of the old layout (no tenant known) sit in one legacy FIFO
/// per lane that a fetch drains first, before the ring.
///
/// Bulk lingers: a tenant's bulk entries are passed over (the tenant goes to the back of the
/// ring, keeping what is left of its visit) until they are ripe: `linger` has passed since the
/// newest arrived, or `4 × linger` since the oldest, or `full` are waiting, so messages that can
/// share a provider call are fetched together. A fetch passes over at most `maxPasses` tenants
/// in a row, so its cost does not grow with the number of tenants waiting.
///
/// A tenant a send limit holds is held in the queue (`hold`): when it reaches the head of the
/// ring before its time it is parked, out of the ring, in a set ordered by due time, and a
/// fetch puts due ones back at the back of the ring. Its next turns are capped by an allowance
/// (what its limit last admitted) that doubles each turn until it is a whole turn again.
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
        /// Tenants a send limit holds, until when (ms); they may still be in the ring.
        public var held: [String: Int] = [:]
        /// Held tenants taken out of the ring, until when (ms).
        public var parked: [String: Int] = [:]
        /// The most a tenant's next turn takes, after a hold.
        public var allowances: [String: Int] = [:]
        /// An empty lane.
        public init() {}
    }

    /// The transactional lane.
    public var transactional = Lane()
    /// The bulk lane.
    public var bulk = Lane()
    /// Weights of tenants that do not have the default of 1.
    public var weights: [String: Int]
    /// Entries a tenant of weight 1 gets per visit, unless the heaviest weight makes it smaller.
    public var quantum: Int
    /// The longest turn wanted: the unit shrinks so that the heaviest weight's turn is at most
    /// this (or its weight, at a unit of 1).
    public var maxTurn: Int

    /// An empty partition.
    public init(quantum: Int, weights: [String: Int] = [:], maxTurn: Int = FairShare.defaultMaxTurn) {
        self.quantum = max(1, quantum)
        self.weights = weights
        self.maxTurn = max(1, maxTurn)
    }

    /// The default longest turn: one provider call's worth.
    public static let defaultMaxTurn = 1000

    /// Most tenants in a row a fetch passes over because their bulk is not ripe.
    public static let maxPasses = 64

    /// Most parked tenants a fetch puts back in the ring per lane visit, so its cost stays bounded.
    public static let maxReleases = 64

    /// Entries per unit of weight in a turn: `quantum`, or less so that the heaviest weight's
    /// turn stays within `maxTurn` (at least 1).
    public static func unit(quantum: Int, maxWeight: Int, maxTurn: Int) -> Int {
        min(quantum, max(1, maxTurn / max(1, maxWeight)))
    }

    /// Holds `tenant` in `lane` until `untilMs`: at the head of the ring before then it is
    /// parked, and its next turn takes at most `allowance` entries (doubling each turn after).
    public mutating func hold(tenant: String, lane: Priority, untilMs: Int, allowance: Int) {
        update(lane) { state in
            state.held[tenant] = untilMs
            if state.parked[tenant] != nil { state.parked[tenant] = untilMs }
            state.allowances[tenant] = max(1, allowance)
        }
    }

    /// Appends entries to a tenant's FIFO in `lane` at `nowMs` (at the front when `front`, in
    /// the order a Redis `LPUSH` leaves them); the tenant joins the back of the ring if it had none.
    /// Entries coming `back` (promoted or reclaimed: gathered once already) make a list they
    /// start ripe at once.
    public mutating func push(_ entries: [String], tenant: String, lane: Priority, front: Bool = false, nowMs: Int = 0, back: Bool = false) {
        guard !entries.isEmpty else { return }
        update(lane) { state in
            let had = !(state.queues[tenant] ?? []).isEmpty
            if front { state.queues[tenant, default: []].insert(contentsOf: entries.reversed(), at: 0) } else { state.queues[tenant, default: []] += entries }
            if !had {
                // A held tenant waits parked, not in the ring.
                if let until = state.held[tenant], until > nowMs { state.parked[tenant] = until } else { state.ring.append(tenant) }
            }
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
    /// then transactional again into whatever bulk left; with `transactionalOnly`, transactional
    /// entries alone (a worker's transactional lane), leaving bulk as it is.
    /// Holds are compared with `nowMs` (by default the linger's time).
    public mutating func fetch(
        max: Int, bulkMinimumPercent: Int, linger: Linger = .none, nowMs: Int? = nil, transactionalOnly: Bool = false
    ) -> [String] {
        var out: [String] = []
        let now = nowMs ?? linger.nowMs
        if transactionalOnly {
            take(.transactional, upTo: max, into: &out, linger: .none, nowMs: now)
            return out
        }
        let reserve = Self.bulkReserve(max: max, percent: bulkMinimumPercent)
        take(.transactional, upTo: max - reserve, into: &out, linger: .none, nowMs: now)
        take(.bulk, upTo: max, into: &out, linger: linger, nowMs: now)
        take(.transactional, upTo: max, into: &out, linger: .none, nowMs: now)
        return out
    }

    /// Entries ready in `lane`.
    public func count(_ lane: Priority) -> Int {
        let state = lane == .transactional ? transactional : bulk
        return state.legacy.count + state.queues.values.reduce(0) { $0 + $1.count }
    }

    private mutating func take(_ lane: Priority, upTo limit: Int, into out: inout [String], linger: Linger, nowMs: Int) {
        guard out.count < limit else { return }
        let weights = self.weights
        let unit = Self.unit(quantum: quantum, maxWeight: weights.values.max() ?? 1, maxTurn: maxTurn)
        update(lane) { state in
            // Holds that have passed are forgotten (they hold nothing any more).
            state.held = state.held.filter { $0.value > nowMs }
            // Parked tenants now due go back to the ring, soonest first (ties by name, as a sorted set orders them).
            let due = state.parked.filter { $0.value <= nowMs }.sorted { $0.value != $1.value ? $0.value < $1.value : $0.key < $1.key }
            for (tenant, _) in due.prefix(Self.maxReleases) {
                state.parked[tenant] = nil
                if !(state.queues[tenant] ?? []).isEmpty { state.ring.append(tenant) }
            }
            let legacy = state.legacy.prefix(limit - out.count)
            out += legacy
            state.legacy.removeFirst(legacy.count)
            var passes = 0
            // Tenants whose turn an allowance cut short in this take: passed over until the
            // next, so a limited tenant alone in the lane does not take turn after turn.
            var capped: Set<String> = []
            while out.count < limit, let tenant = state.ring.first {
                let queue = state.queues[tenant] ?? []
                if let until = state.held[tenant], !queue.isEmpty {
                    // Held: out of the ring until due, and its turn starts afresh then.
                    state.ring.removeFirst()
                    state.deficits[tenant] = nil
                    state.parked[tenant] = until
                    continue
                }
                if capped.contains(tenant) || (!queue.isEmpty && !linger.ripe(count: queue.count, arrival: state.arrivals[tenant])) {
                    if passes >= Swift.min(Self.maxPasses, state.ring.count) { break }
                    passes += 1
                    state.ring.append(state.ring.removeFirst())
                    continue
                }
                passes = 0
                var deficit = state.deficits[tenant] ?? 0
                if deficit <= 0 {
                    deficit = unit * Swift.max(1, weights[tenant] ?? 1)
                    // After a hold the turn is what the limit last admitted, doubling each turn.
                    if let allowance = state.allowances[tenant] {
                        if allowance < deficit {
                            deficit = allowance
                            state.allowances[tenant] = allowance * 2
                            capped.insert(tenant)
                        } else {
                            state.allowances[tenant] = nil
                        }
                    }
                }
                let taken = queue.prefix(Swift.min(deficit, limit - out.count))
                out += taken
                deficit -= taken.count
                let rest = Array(queue.dropFirst(taken.count))
                state.queues[tenant] = rest.isEmpty ? nil : rest
                if rest.isEmpty {
                    state.ring.removeFirst()
                    state.deficits[tenant] = nil
                    state.arrivals[tenant] = nil
                    state.allowances[tenant] = nil
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
