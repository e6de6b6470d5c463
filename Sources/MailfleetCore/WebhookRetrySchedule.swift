import Foundation

/// When a failed webhook delivery is tried again: the delay after each failed attempt, with
/// jitter so that an endpoint's deliveries that failed together do not all come back at once.
/// Past the last delay the delivery has failed for good.
public struct WebhookRetrySchedule: Sendable, Equatable {
    /// The delays after the first, second, ... failed attempt, in seconds.
    public let delays: [Double]
    /// The share of each delay added or taken away at random (0.2: ±20 %).
    public let jitter: Double

    /// The default: the Standard Webhooks example's first steps (5 s, 5 min, 30 min, 2 h, 5 h,
    /// 10 h) then 14 h, 20 h and 24 h of our own, so retries last about three days and three
    /// hours in all, ten attempts.
    public static let standard = WebhookRetrySchedule(delays: [5, 300, 1800, 7200, 18_000, 36_000, 50_400, 72_000, 86_400])

    /// A schedule of `delays` (seconds, each greater than 0) with `jitter`.
    public init(delays: [Double], jitter: Double = 0.2) {
        self.delays = delays
        self.jitter = min(max(jitter, 0), 0.9)
    }

    /// Attempts a delivery gets in all, the first included.
    public var attempts: Int { delays.count + 1 }

    /// The wait after attempt number `attempt` (1 for the first) failed, or nil when that was
    /// the last attempt.
    public func delay(afterAttempt attempt: Int, using generator: inout some RandomNumberGenerator) -> Double? {
        guard attempt >= 1, attempt <= delays.count else { return nil }
        let base = delays[attempt - 1]
        guard jitter > 0 else { return base }
        return base * (1 + Double.random(in: -jitter...jitter, using: &generator))
    }

    /// Reads a comma-separated list of seconds (`5,300,1800`); nil when a value is not a number
    /// greater than 0 or the list is empty.
    public init?(text: String) {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let values = parts.compactMap(Double.init)
        guard !parts.isEmpty, values.count == parts.count, values.allSatisfy({ $0.isFinite && $0 > 0 }) else { return nil }
        self.init(delays: values)
    }
}
