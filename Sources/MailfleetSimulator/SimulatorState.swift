import Foundation
import MailfleetRuntime

/// Faults the simulator injects, set through `POST /_control`.
public struct FaultSettings: Sendable, Codable, Equatable {
    /// Added latency per call, in milliseconds.
    public var latencyMs: Int = 0
    /// Share of calls (0...1) answered with `errorStatus`.
    public var errorRate: Double = 0
    /// The status of injected errors. Default 500.
    public var errorStatus: Int = 500
    /// Retry-After seconds sent with injected 429/503 answers.
    public var retryAfter: Int?
    /// When true every call fails with 503 (a full outage).
    public var outage: Bool = false
    /// Share of calls (0...1) whose messages are accepted and recorded, then answered 500: a
    /// provider that sent the mail but whose answer was lost, so the sender retries it.
    public var acceptThenFailRate: Double = 0
    /// Addresses the Postmark endpoint answers with ErrorCode 406 (inactive recipient).
    public var postmarkReject: [String] = []
    /// Address → SES entry status (e.g. `MESSAGE_REJECTED`, `TRANSIENT_FAILURE`,
    /// `ACCOUNT_SUSPENDED`): a `SendBulkEmail` entry with such a recipient gets that status
    /// while the other entries are sent; a raw `SendEmail` to it gets the matching error answer.
    public var sesEntryStatus: [String: String] = [:]

    enum CodingKeys: String, CodingKey {
        case latencyMs = "latency_ms", errorRate = "error_rate", errorStatus = "error_status", retryAfter = "retry_after", outage
        case acceptThenFailRate = "accept_then_fail_rate"
        case postmarkReject = "postmark_reject"
        case sesEntryStatus = "ses_entry_status"
    }

    /// No faults.
    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        latencyMs = try c.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        errorRate = try c.decodeIfPresent(Double.self, forKey: .errorRate) ?? 0
        errorStatus = try c.decodeIfPresent(Int.self, forKey: .errorStatus) ?? 500
        retryAfter = try c.decodeIfPresent(Int.self, forKey: .retryAfter)
        outage = try c.decodeIfPresent(Bool.self, forKey: .outage) ?? false
        acceptThenFailRate = try c.decodeIfPresent(Double.self, forKey: .acceptThenFailRate) ?? 0
        postmarkReject = try c.decodeIfPresent([String].self, forKey: .postmarkReject) ?? []
        sesEntryStatus = try c.decodeIfPresent([String: String].self, forKey: .sesEntryStatus) ?? [:]
    }
}

/// What the simulator has seen, for tests and benchmarks to check delivery counts. The
/// counters are always kept; the per-message records only as far as `recording` says.
public struct SimulatorStats: Sendable {
    /// What is kept per message.
    public var recording: SimulatorRecording
    /// Calls received, by provider API.
    public var calls: [String: Int] = [:]
    /// Calls answered 2xx.
    public var acceptedCalls = 0
    /// Calls answered with an error (injected or validation).
    public var rejectedCalls = 0
    /// Recipients in accepted calls.
    public var recipients = 0
    /// Messages (with a Mailfleet id) in accepted calls, a duplicate counted again.
    public var acceptedMessages = 0
    /// Calls being handled right now.
    public var inflight = 0
    /// When the last call arrived (seconds since 1970; 0 before the first), so a test can tell
    /// when a sender stopped calling.
    public var lastCallAt: Double = 0
    /// Calls whose messages were recorded and then answered 500 (`accept_then_fail_rate`).
    public var lostAnswers = 0
    /// Messages (with a Mailfleet id) in those calls: the most that may be delivered twice.
    public var lostAnswerMessages = 0
    /// Largest batch (personalizations) seen in one call.
    public var largestBatch = 0

    // Records (`arrivals` and up).

    /// First time each message id was accepted (seconds since 1970), for time-to-provider figures.
    public var firstSeen: [String: Double] = [:]
    /// Deliveries beyond the first of a message, counted as they happen.
    public var duplicateDeliveries = 0

    // Records (`all`).

    /// Accepted deliveries per Mailfleet message id (from custom_args); >1 means a duplicate.
    public var deliveries: [String: Int] = [:]
    /// The variables (custom args, recipient variables, metadata) each recipient address was
    /// sent with, by lowercased address; the last delivery wins.
    public var variables: [String: [String: String]] = [:]

    /// Empty counters and records, keeping what `recording` says.
    public init(recording: SimulatorRecording = .counters) {
        self.recording = recording
    }

    /// Distinct message ids accepted; nil when arrivals are not recorded (no way to tell).
    public var uniqueMessages: Int? { recording >= .arrivals ? firstSeen.count : nil }
    /// Deliveries beyond a message's first; nil when arrivals are not recorded.
    public var duplicates: Int? { recording >= .arrivals ? duplicateDeliveries : nil }
}

/// A read of records the simulator was not keeping.
public struct RecordingOff: Error, Equatable {
    /// The recording the read needs.
    public var needed: SimulatorRecording
    /// The recording in force.
    public var current: SimulatorRecording

    /// What a caller is told.
    public var message: String {
        "the simulator records \(current.rawValue) and this read needs \(needed.rawValue): start it with --record \(needed.rawValue) "
            + "(MAILFLEET_SIM_RECORD) or POST /_control {\"record\":\"\(needed.rawValue)\"} before the messages are sent"
    }
}

/// The simulator's mutable state behind a lock.
public final class SimulatorState: Sendable {
    let stats: Locked<SimulatorStats>
    let faults = Locked(FaultSettings())

    /// Creates empty state that keeps what `recording` says per message.
    public init(recording: SimulatorRecording = .counters) {
        stats = Locked(SimulatorStats(recording: recording))
    }

    /// What is kept per message now.
    public var recording: SimulatorRecording { stats.withLock { $0.recording } }

    /// Keeps `recording` from now on; records already kept stay until the next reset.
    public func record(_ recording: SimulatorRecording) {
        stats.withLock { $0.recording = recording }
    }

    /// Counts one accepted call and its deliveries; records per message id and per recipient
    /// as far as the recording goes.
    func recordAccepted(_ deliveries: [SimulatedDelivery], at now: Double = Date().timeIntervalSince1970) {
        stats.withLock { stats in
            stats.acceptedCalls += 1
            stats.largestBatch = max(stats.largestBatch, deliveries.count)
            let recording = stats.recording
            for delivery in deliveries {
                stats.recipients += delivery.recipients.count
                if let id = delivery.messageID {
                    stats.acceptedMessages += 1
                    if recording >= .arrivals {
                        if stats.firstSeen[id] == nil { stats.firstSeen[id] = now } else { stats.duplicateDeliveries += 1 }
                    }
                    if recording == .all { stats.deliveries[id, default: 0] += 1 }
                }
                if recording == .all {
                    for recipient in delivery.recipients { stats.variables[recipient.lowercased()] = delivery.variables }
                }
            }
        }
    }

    /// Counts a call as it arrives.
    func recordCall(_ provider: String) {
        let now = Date().timeIntervalSince1970
        stats.withLock {
            $0.calls[provider, default: 0] += 1
            $0.inflight += 1
            $0.lastCallAt = now
        }
    }

    /// Reads records that need at least `needed`, or says they are not kept.
    func records<Value>(_ needed: SimulatorRecording, _ read: (SimulatorStats) -> Value) -> Result<Value, RecordingOff> {
        stats.withLock { stats in
            stats.recording >= needed ? .success(read(stats)) : .failure(RecordingOff(needed: needed, current: stats.recording))
        }
    }

    /// First arrival time of every message id (needs `arrivals`).
    public func arrivals() -> Result<[String: Double], RecordingOff> { records(.arrivals) { $0.firstSeen } }

    /// Accepted deliveries of one message id (needs `all`).
    public func deliveries(of id: String) -> Result<Int, RecordingOff> { records(.all) { $0.deliveries[id] ?? 0 } }

    /// The variables each recipient was last sent with, by lowercased address (needs `all`).
    public func recipientVariables() -> Result<[String: [String: String]], RecordingOff> { records(.all) { $0.variables } }

    /// Clears counters, records and faults; the recording stays as it is.
    public func reset() {
        stats.withLock { $0 = SimulatorStats(recording: $0.recording) }
        faults.withLock { $0 = FaultSettings() }
    }
}

/// One message as a simulated provider accepted it.
struct SimulatedDelivery: Sendable {
    /// The Mailfleet message id it carried, if any.
    var messageID: String?
    /// Bare recipient addresses.
    var recipients: [String]
    /// Its per-recipient variables (including the message id variable).
    var variables: [String: String]
}
