import Foundation

/// Which messages of a round or a provider call go now, given what each limit granted. The
/// worker asks every limit (rate buckets, warm-up counters) for as many tokens as messages
/// need it, all at once; this decides, in message order, which messages got a token from every
/// limit they need, which wait (until when, and why), and how many tokens each limit gets back
/// because a message that needed it was stopped by another.
public enum SendAdmission {
    /// Why a message waits.
    public enum Reason: String, Sendable, CaseIterable, Hashable {
        /// The provider account's messages per second.
        case accountRate = "account_rate"
        /// The provider account's calls per second.
        case accountCalls = "account_calls"
        /// The tenant's messages per second.
        case tenantRate = "tenant_rate"
        /// The cap to a mailbox provider from the account.
        case mailboxRate = "mailbox_rate"
        /// The sending domain's warm-up cap for today.
        case warmup
    }

    /// One limit: its reason, its subject (the key it is counted under, unique), its name (for
    /// the wait's reason), and the time one token takes (0 for a daily count), which spreads
    /// the waits of those held.
    public struct Limit: Sendable, Hashable {
        /// Why a message held by this limit waits.
        public var reason: Reason
        /// The key it is counted under, e.g. `acct:<id>:msg`.
        public var subject: String
        /// What the limit is, as people read it, e.g. `account sim: 200 messages/s`.
        public var name: String
        /// Microseconds one token takes at the sustained rate; 0 when waiting spreads nothing.
        public var intervalUs: Int

        /// Creates a limit.
        public init(reason: Reason, subject: String, name: String, intervalUs: Int) {
            self.reason = reason
            self.subject = subject
            self.name = name
            self.intervalUs = intervalUs
        }
    }

    /// What a limit granted: tokens, microseconds until the next one is free, and until the
    /// first one booked for those it held (after other workers' holds; the next free one when
    /// nothing is booked).
    public struct Grant: Sendable, Equatable {
        /// Tokens granted.
        public var admitted: Int
        /// Microseconds from now until another token is free.
        public var nextFreeUs: Int
        /// Microseconds from now until the first held message's turn.
        public var heldWaitUs: Int

        /// Creates a grant.
        public init(admitted: Int, nextFreeUs: Int, heldWaitUs: Int? = nil) {
            self.admitted = admitted
            self.nextFreeUs = nextFreeUs
            self.heldWaitUs = heldWaitUs ?? nextFreeUs
        }
    }

    /// A message held: the limit that held it (the one with the longest wait) and the wait in microseconds.
    public struct Hold: Sendable, Equatable {
        /// The limit.
        public var limit: Limit
        /// Microseconds to wait: the first held message's turn plus this message's place in line.
        public var waitUs: Int
        /// Microseconds until the limit's next free token (what a lane waits before fetching more).
        public var nextFreeUs: Int

        /// Creates a hold.
        public init(limit: Limit, waitUs: Int, nextFreeUs: Int? = nil) {
            self.limit = limit
            self.waitUs = waitUs
            self.nextFreeUs = nextFreeUs ?? waitUs
        }
    }

    /// The decision.
    public struct Decision: Sendable, Equatable {
        /// Messages that go now, in the order given.
        public var admitted: [UUID] = []
        /// Messages that wait.
        public var held: [UUID: Hold] = [:]
        /// Tokens to give back per limit (granted but not used), only those above 0.
        public var unused: [Limit: Int] = [:]
    }

    /// How many tokens to ask of each limit: one per message that needs it.
    public static func wanted(_ needs: [(id: UUID, limits: [Limit])]) -> [Limit: Int] {
        var wanted: [Limit: Int] = [:]
        for need in needs { for limit in Set(need.limits) { wanted[limit, default: 0] += 1 } }
        return wanted
    }

    /// Decides which messages go: a message goes when every limit it needs has a token left;
    /// a message held takes none. A limit not in `grants` (it could not be asked) lets everything through.
    public static func decide(_ needs: [(id: UUID, limits: [Limit])], grants: [Limit: Grant]) -> Decision {
        var left = grants.mapValues(\.admitted)
        var line: [Limit: Int] = [:]
        var decision = Decision()
        for need in needs {
            let limits = Set(need.limits)
            let short = limits.filter { (left[$0] ?? 1) <= 0 }
            if short.isEmpty {
                for limit in limits where left[limit] != nil { left[limit]! -= 1 }
                decision.admitted.append(need.id)
                continue
            }
            // The longest wait among the limits that stopped it; its place in line spreads
            // the held messages over the time their tokens will take.
            var worst: Hold?
            for limit in short {
                let place = line[limit, default: 0]
                let wait = (grants[limit]?.heldWaitUs ?? 0) + place * limit.intervalUs
                if worst == nil || wait > worst!.waitUs { worst = Hold(limit: limit, waitUs: wait, nextFreeUs: grants[limit]?.nextFreeUs ?? 0) }
            }
            for limit in short { line[limit, default: 0] += 1 }
            decision.held[need.id] = worst
        }
        for (limit, count) in left where count > 0 && (grants[limit]?.admitted ?? 0) > 0 { decision.unused[limit] = count }
        return decision
    }
}
