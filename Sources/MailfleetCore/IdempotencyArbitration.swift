import Foundation

/// Decides, for one group of accept requests committed together, which request claims which
/// idempotency key, whose messages are inserted, and what each request is answered: created,
/// or the stored answer of the request that holds its key (a replay when the bodies match, a
/// conflict when they do not). No I/O: the store runs the claim and the reads and reports
/// what the database said.
public struct IdempotencyArbitration: Sendable {
    /// A tenant's idempotency key.
    public struct Key: Hashable, Sendable {
        /// The tenant.
        public var tenantID: UUID
        /// The caller's Idempotency-Key.
        public var key: String

        /// Creates a key.
        public init(tenantID: UUID, key: String) {
            self.tenantID = tenantID
            self.key = key
        }
    }

    /// The answer stored under a key by the request that claimed it.
    public struct StoredAnswer: Sendable, Equatable {
        /// The hash of that request's body.
        public var requestHash: String
        /// The status it was answered with.
        public var status: Int
        /// The body it was answered with.
        public var body: String

        /// Creates a stored answer.
        public init(requestHash: String, status: Int, body: String) {
            self.requestHash = requestHash
            self.status = status
            self.body = body
        }
    }

    /// What the group is answered.
    public enum Answer: Sendable, Equatable {
        /// One result per request, in request order.
        case results([AcceptResult])
        /// A key this group lost had no stored answer when read (it expired in between): the
        /// group should be retried.
        case keyVanished(String)
    }

    private let requests: [AcceptRequest]
    /// Indices of the requests that claim their key, in group order: the first request per
    /// key, since two requests with one key in one group would otherwise both see it as theirs.
    public let claimants: [Int]
    private var winners: Set<Int> = []

    /// Arbitrates a group of requests.
    public init(requests: [AcceptRequest]) {
        self.requests = requests
        var seen = Set<Key>()
        var claimants: [Int] = []
        for (index, request) in requests.enumerated() {
            guard let key = Self.key(of: request) else { continue }
            if seen.insert(key).inserted { claimants.append(index) }
        }
        self.claimants = claimants
    }

    /// True when no request carries a key: the messages are inserted with nothing to claim.
    public var claimsNothing: Bool { claimants.isEmpty }

    /// The keys claimed and the requests claiming them, in the order of `claimants`.
    public var claims: [(key: Key, request: AcceptRequest)] { claimants.map { (Self.key(of: requests[$0])!, requests[$0]) } }

    /// Records which keys the claim inserted; a claimant whose key is not among them lost it
    /// to an earlier request.
    public mutating func claimed(_ keys: Set<Key>) {
        winners = Set(claimants.filter { keys.contains(Self.key(of: requests[$0])!) })
    }

    /// Indices of the requests whose messages are inserted, in group order: those without a
    /// key and those that claimed theirs.
    public var inserting: [Int] {
        requests.indices.filter { requests[$0].idempotencyKey == nil || winners.contains($0) }
    }

    /// The keys whose stored answers must be read: those of requests that did not claim them.
    public var keysToRead: [Key] {
        var seen = Set<Key>()
        return requests.indices.compactMap { index in
            guard !winners.contains(index), let key = Self.key(of: requests[index]), seen.insert(key).inserted else { return nil }
            return key
        }
    }

    /// Each request's result, given the stored answers read for `keysToRead`.
    public func answer(stored: [Key: StoredAnswer]) -> Answer {
        var results: [AcceptResult] = []
        results.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            guard let key = Self.key(of: request), !winners.contains(index) else {
                results.append(.created)
                continue
            }
            guard let answer = stored[key] else { return .keyVanished(key.key) }
            results.append(.replay(sameRequest: answer.requestHash == request.requestHash, status: answer.status, body: answer.body))
        }
        return .results(results)
    }

    private static func key(of request: AcceptRequest) -> Key? {
        request.idempotencyKey.map { Key(tenantID: request.tenantID, key: $0) }
    }
}
