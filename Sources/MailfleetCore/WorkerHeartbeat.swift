import Foundation

/// What one sender worker says about itself every few seconds. Stored in Redis with a short
/// expiry, so a worker that dies stops being counted without anyone cleaning up after it.
public struct WorkerHeartbeat: Sendable, Equatable, Codable {
    /// The worker's id, unique per process start.
    public var id: String
    /// The host it runs on.
    public var host: String
    /// Its process id.
    public var pid: Int
    /// When the process started (ms since 1970).
    public var startedAtMs: Int
    /// When this heartbeat was written (ms since 1970).
    public var beatAtMs: Int
    /// Messages a provider accepted since the process started.
    public var sent: Int
    /// Messages that failed for good (dead-lettered) since the process started.
    public var failed: Int
    /// Messages rescheduled after a retryable failure since the process started.
    public var deferred: Int
    /// Recent provider call latency per provider account this worker called.
    public var accounts: [AccountLatency]

    /// One provider account's recent call latency as one worker measured it.
    public struct AccountLatency: Sendable, Equatable, Codable {
        /// The provider account.
        public var accountID: UUID
        /// Calls measured since the process started.
        public var calls: Int
        /// Exponentially weighted mean call duration in milliseconds (see `CallLatency`).
        public var meanMs: Double

        /// Creates a reading.
        public init(accountID: UUID, calls: Int, meanMs: Double) {
            self.accountID = accountID
            self.calls = calls
            self.meanMs = meanMs
        }

        enum CodingKeys: String, CodingKey {
            case accountID = "account_id"
            case calls
            case meanMs = "mean_ms"
        }
    }

    /// Creates a heartbeat.
    public init(
        id: String, host: String, pid: Int, startedAtMs: Int, beatAtMs: Int, sent: Int = 0, failed: Int = 0, deferred: Int = 0,
        accounts: [AccountLatency] = []
    ) {
        self.id = id
        self.host = host
        self.pid = pid
        self.startedAtMs = startedAtMs
        self.beatAtMs = beatAtMs
        self.sent = sent
        self.failed = failed
        self.deferred = deferred
        self.accounts = accounts
    }

    enum CodingKeys: String, CodingKey {
        case id, host, pid, sent, failed, deferred, accounts
        case startedAtMs = "started_at_ms"
        case beatAtMs = "beat_at_ms"
    }
}
