extension CircuitBreaker {
    /// The breaker's thresholds and periods, each with a default chosen for provider HTTP APIs.
    public struct Configuration: Sendable, Equatable {
        /// How many of the latest calls the failure rate is taken over. Default 20: enough that
        /// one bad batch among healthy ones does not trip it, few enough to react within seconds
        /// at the fleet's call rates.
        public var windowSize: Int
        /// Calls the window must hold before it can trip. Default 5: a dead account trips after
        /// five failed calls (each up to the 30 s provider timeout when it hangs), while two
        /// unlucky calls on a quiet account do not.
        public var minimumCalls: Int
        /// The failure rate, in percent of the window, that trips it. Default 50.
        public var failureRatePercent: Int
        /// A call at least this long counts as a failure even if it succeeded. Default 10,000 ms:
        /// a third of the 30 s provider timeout, well past a healthy provider's answer time.
        public var slowCallMs: Int
        /// The first open period. Default 5,000 ms: long enough to stop the fleet hammering a
        /// dead account, short enough that a blip costs a few seconds of failover.
        public var openBaseMs: Int
        /// The longest open period; each consecutive trip doubles it up to here. Default
        /// 300,000 ms (5 minutes): a long outage is still probed every 5 minutes.
        public var openMaxMs: Int
        /// Probe calls in half-open; all must succeed to close. Default 3.
        public var halfOpenProbes: Int
        /// A probe not reported within this long is given out again (its worker died). Default
        /// 30,000 ms: the provider call timeout.
        public var probeTimeoutMs: Int

        /// Creates a configuration; each value is clamped to at least 1 (and the window to at
        /// least `minimumCalls`, the cap to at least the base period).
        public init(
            windowSize: Int = 20, minimumCalls: Int = 5, failureRatePercent: Int = 50, slowCallMs: Int = 10_000,
            openBaseMs: Int = 5_000, openMaxMs: Int = 300_000, halfOpenProbes: Int = 3, probeTimeoutMs: Int = 30_000
        ) {
            self.minimumCalls = max(1, minimumCalls)
            self.windowSize = max(self.minimumCalls, windowSize)
            self.failureRatePercent = min(100, max(1, failureRatePercent))
            self.slowCallMs = max(1, slowCallMs)
            self.openBaseMs = max(1, openBaseMs)
            self.openMaxMs = max(self.openBaseMs, openMaxMs)
            self.halfOpenProbes = max(1, halfOpenProbes)
            self.probeTimeoutMs = max(1, probeTimeoutMs)
        }

        /// The open period after the `trips`-th consecutive trip: the base doubled per earlier
        /// trip, capped. Doubling step by step keeps it exact and free of overflow.
        public func openPeriodMs(trips: Int) -> Int {
            var period = openBaseMs
            var remaining = trips - 1
            while remaining > 0, period < openMaxMs {
                period = min(openMaxMs, period * 2)
                remaining -= 1
            }
            return min(openMaxMs, period)
        }
    }
}
