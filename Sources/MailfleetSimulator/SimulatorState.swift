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

/// What the simulator has seen, for tests and benchmarks to check delivery counts.
public struct SimulatorStats: Sendable {
    /// Calls received, by provider API.
    public var calls: [String: Int] = [:]
    /// Calls answered 2xx.
    public var acceptedCalls = 0
    /// Calls answered with an error (injected or validation).
    public var rejectedCalls = 0
    /// Recipients in accepted calls.
    public var recipients = 0
    /// Accepted deliveries per Mailfleet message id (from custom_args); >1 means a duplicate.
    public var deliveries: [String: Int] = [:]
    /// First time each message id was accepted (seconds since 1970), for time-to-provider figures.
    public var firstSeen: [String: Double] = [:]
    /// Deliveries beyond the first of a message, counted as they happen.
    public var duplicateDeliveries = 0
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
    /// The variables (custom args, recipient variables, metadata) each recipient address was
    /// sent with, by lowercased address; the last delivery wins.
    public var variables: [String: [String: String]] = [:]
}

/// The simulator's mutable state behind a lock.
public final class SimulatorState: Sendable {
    let stats = Locked(SimulatorStats())
    let faults = Locked(FaultSettings())

    /// Creates empty state.
    public init() {}

    /// Counts one accepted call and its deliveries: per message id, and per recipient the
    /// variables it was sent with.
    func recordAccepted(_ deliveries: [SimulatedDelivery]) {
        let now = Date().timeIntervalSince1970
        stats.withLock { stats in
            stats.acceptedCalls += 1
            stats.largestBatch = max(stats.largestBatch, deliveries.count)
            for delivery in deliveries {
                stats.recipients += delivery.recipients.count
                if let id = delivery.messageID {
                    let previous = stats.deliveries.updateValue((stats.deliveries[id] ?? 0) + 1, forKey: id)
                    if previous == nil { stats.firstSeen[id] = now } else { stats.duplicateDeliveries += 1 }
                }
                for recipient in delivery.recipients { stats.variables[recipient.lowercased()] = delivery.variables }
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

    /// Clears counters and faults.
    public func reset() {
        stats.withLock { $0 = SimulatorStats() }
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
