import Foundation

/// How long a campaign whose expansion failed waits before the runner tries it again: `first`
/// seconds after its first failure in a row, doubling with each further one, at most `maximum`.
/// The count lives in the campaign's own row, so a campaign that keeps failing waits longer and
/// longer while the runner goes on with the others.
public struct CampaignBackoff: Sendable, Equatable {
    /// The wait after a first failure. Default 5 s: a passing fault (a deadlock, a restart)
    /// costs little, and a lasting one is not retried several times a second.
    public var first: Double
    /// The longest wait. Default 1 h: a campaign fixed by hand (its segment, its sender) goes
    /// on within the hour without anybody resuming it.
    public var maximum: Double

    /// Creates a backoff.
    public init(first: Double = 5, maximum: Double = 3600) {
        self.first = first
        self.maximum = maximum
    }

    /// Seconds to wait after `failures` failures in a row (1 for the first).
    public func delay(afterFailures failures: Int) -> Double {
        let exponent = Double(min(max(failures - 1, 0), 40))
        return min(maximum, first * pow(2, exponent))
    }
}
