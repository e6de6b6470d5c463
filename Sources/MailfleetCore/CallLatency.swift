/// Recent call latency of one provider account: an exponentially weighted mean, so the
/// status page shows how the account answers now, not since the process started, without
/// keeping a window of samples.
public struct CallLatency: Sendable, Equatable {
    /// Weight of the newest call; 0.2 means the last ten or so calls make up most of the mean.
    public static let weight = 0.2

    /// The weighted mean in milliseconds; nil before the first call.
    public private(set) var meanMs: Double?
    /// Calls recorded.
    public private(set) var calls = 0

    /// No calls yet.
    public init() {}

    /// Folds one call's duration into the mean.
    public mutating func record(milliseconds: Double) {
        calls += 1
        guard let mean = meanMs else {
            meanMs = milliseconds
            return
        }
        meanMs = mean + Self.weight * (milliseconds - mean)
    }
}
