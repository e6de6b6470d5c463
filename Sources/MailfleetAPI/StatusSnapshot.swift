import Foundation
import MailfleetCore
import MailfleetStore

/// What `GET /status.json` answers and the status page shows: the fleet at one moment. A part
/// that could not be read (Redis or Postgres down) is null, and `unavailable` says why, so the
/// page still shows the rest.
struct StatusSnapshot: Encodable, Sendable {
    var generatedAt: String
    var queues: Queues?
    var deadLetters: Int?
    var workers: Workers?
    var providers: [Provider]?
    var recentFailures: [Failure]?
    var throughput: Throughput
    var unavailable: [String]

    enum CodingKeys: String, CodingKey {
        case generatedAt = "generated_at"
        case queues
        case deadLetters = "dead_letters"
        case workers, providers
        case recentFailures = "recent_failures"
        case throughput, unavailable
    }

    /// Every key always present: a part that could not be read is null, not missing.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(generatedAt, forKey: .generatedAt)
        try container.encode(queues, forKey: .queues)
        try container.encode(deadLetters, forKey: .deadLetters)
        try container.encode(workers, forKey: .workers)
        try container.encode(providers, forKey: .providers)
        try container.encode(recentFailures, forKey: .recentFailures)
        try container.encode(throughput, forKey: .throughput)
        try container.encode(unavailable, forKey: .unavailable)
    }

    /// Entries per lane and state, over every partition.
    struct Queues: Encodable, Sendable, Equatable {
        var readyTransactional: Int
        var readyBulk: Int
        var leased: Int
        var delayed: Int

        enum CodingKeys: String, CodingKey {
            case readyTransactional = "ready_transactional"
            case readyBulk = "ready_bulk"
            case leased, delayed
        }

        init(_ depth: QueueDepth) {
            readyTransactional = depth.readyTransactional
            readyBulk = depth.readyBulk
            leased = depth.leased
            delayed = depth.delayed
        }
    }

    /// The workers alive and their counts since each started.
    struct Workers: Encodable, Sendable {
        var alive: Int
        var sent: Int
        var failed: Int
        var deferred: Int
        var list: [Worker]

        init(_ activity: FleetActivity, nowMs: Int) {
            alive = activity.workers.count
            sent = activity.sent
            failed = activity.failed
            deferred = activity.deferred
            list = activity.workers.map { Worker($0, nowMs: nowMs) }
        }
    }

    /// One worker as its latest heartbeat shows it.
    struct Worker: Encodable, Sendable {
        var id: String
        var host: String
        var pid: Int
        var startedAt: String
        var secondsSinceHeartbeat: Double
        var sent: Int
        var failed: Int
        var deferred: Int

        enum CodingKeys: String, CodingKey {
            case id, host, pid
            case startedAt = "started_at"
            case secondsSinceHeartbeat = "seconds_since_heartbeat"
            case sent, failed, deferred
        }

        init(_ beat: WorkerHeartbeat, nowMs: Int) {
            id = beat.id
            host = beat.host
            pid = beat.pid
            startedAt = StatusSnapshot.time(ms: beat.startedAtMs)
            secondsSinceHeartbeat = Double(max(0, nowMs - beat.beatAtMs)) / 1000
            sent = beat.sent
            failed = beat.failed
            deferred = beat.deferred
        }
    }

    /// A provider account of some tenant, its breaker, and its recent call latency across workers.
    struct Provider: Encodable, Sendable {
        var tenant: String
        var tenantID: String
        var account: String
        var accountID: String
        var kind: String
        var priority: Int
        var circuit: CircuitView
        /// Weighted mean call time in ms over the workers alive that called it; nil when none did.
        var latencyMs: Double?
        var calls: Int

        enum CodingKeys: String, CodingKey {
            case tenant
            case tenantID = "tenant_id"
            case account
            case accountID = "account_id"
            case kind, priority, circuit
            case latencyMs = "latency_ms"
            case calls
        }

        /// `latency_ms` is null, not missing, for an account no live worker called.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenant, forKey: .tenant)
            try container.encode(tenantID, forKey: .tenantID)
            try container.encode(account, forKey: .account)
            try container.encode(accountID, forKey: .accountID)
            try container.encode(kind, forKey: .kind)
            try container.encode(priority, forKey: .priority)
            try container.encode(circuit, forKey: .circuit)
            try container.encode(latencyMs, forKey: .latencyMs)
            try container.encode(calls, forKey: .calls)
        }

        init(_ account: ProviderAccount, tenant: String, circuit: CircuitBreaker.State?, latency: WorkerHeartbeat.AccountLatency?) {
            self.tenant = tenant
            tenantID = account.tenantID.lowercasedString
            self.account = account.name
            accountID = account.id.lowercasedString
            kind = account.kind.rawValue
            priority = account.priority
            self.circuit = CircuitView(circuit)
            latencyMs = latency.map { ($0.meanMs * 10).rounded() / 10 }
            calls = latency?.calls ?? 0
        }
    }

    /// A dead letter: when, whose, which message, and why.
    struct Failure: Encodable, Sendable {
        var failedAt: String
        var tenant: String
        var tenantID: String
        var messageID: String
        var error: String

        enum CodingKeys: String, CodingKey {
            case failedAt = "failed_at"
            case tenant
            case tenantID = "tenant_id"
            case messageID = "message_id"
            case error
        }

        init(_ record: MessageRecord, tenant: String) {
            failedAt = ISO8601.format(record.updatedAt)
            self.tenant = tenant
            tenantID = record.message.tenantID.lowercasedString
            messageID = record.message.id.lowercasedString
            error = record.lastError ?? ""
        }
    }

    /// The send rate over the last minutes, one point per sample, oldest first.
    struct Throughput: Encodable, Sendable {
        var intervalSeconds: Double
        var points: [Point]

        enum CodingKeys: String, CodingKey {
            case intervalSeconds = "interval_seconds"
            case points
        }

        struct Point: Encodable, Sendable {
            var at: String
            var sentPerSecond: Double
            var failedPerSecond: Double

            enum CodingKeys: String, CodingKey {
                case at
                case sentPerSecond = "sent_per_second"
                case failedPerSecond = "failed_per_second"
            }
        }

        init(_ history: ThroughputHistory, intervalSeconds: Double) {
            self.intervalSeconds = intervalSeconds
            points = history.points.map {
                Point(
                    at: StatusSnapshot.time(ms: $0.atMs), sentPerSecond: ($0.sentPerSecond * 100).rounded() / 100,
                    failedPerSecond: ($0.failedPerSecond * 100).rounded() / 100)
            }
        }
    }

    static func time(ms: Int) -> String { ISO8601.format(Date(timeIntervalSince1970: Double(ms) / 1000)) }
}
