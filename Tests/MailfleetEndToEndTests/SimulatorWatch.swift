import Foundation

/// A simulator's counters sampled every 50 ms, to tell when the fleet called it and when it
/// accepted again.
struct SimulatorWatch: Sendable {
    /// One reading of `/_stats`.
    struct Sample: Sendable {
        var at: Date
        /// When its latest call arrived (seconds since 1970).
        var lastCallAt: Double
        var acceptedCalls: Int
    }

    private(set) var samples: [Sample] = []

    /// Samples the simulator at `url` until `end`.
    static func record(_ fleet: Fleet, _ url: String?, until end: Date) async -> SimulatorWatch {
        var watch = SimulatorWatch()
        while Date() < end {
            if let stats = try? await fleet.simStats(at: url) {
                watch.samples.append(Sample(
                    at: Date(), lastCallAt: stats["last_call_at"] as? Double ?? 0, acceptedCalls: stats["accepted_calls"] as? Int ?? 0))
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return watch
    }

    /// Arrival times of calls seen after `start`, oldest first (the latest of each sample; calls
    /// closer together than the sampling interval show as one).
    func calls(after start: Date) -> [Double] {
        Array(Set(samples.map(\.lastCallAt).filter { $0 > start.timeIntervalSince1970 })).sorted()
    }

    /// The first sample after `start` whose accepted calls exceed those at `start`.
    func firstAccepted(after start: Date) -> Date? {
        let before = samples.last { $0.at <= start }?.acceptedCalls ?? 0
        return samples.first { $0.at > start && $0.acceptedCalls > before }?.at
    }
}
