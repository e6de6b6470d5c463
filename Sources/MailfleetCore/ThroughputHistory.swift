/// The fleet's send rate over the last minutes, one point per sample, for the status page's
/// sparkline. A ring buffer: the API samples the workers' heartbeats once a second, so a page
/// opened now already shows the minutes before it.
///
/// Each worker's rate comes from the difference between two of its heartbeats, over the time
/// between them, and holds until its next heartbeat. Sampling more often than workers beat
/// therefore gives a steady line, not one that jumps between nothing and double.
public struct ThroughputHistory: Sendable, Equatable {
    /// One sample: messages per second at a moment.
    public struct Point: Sendable, Equatable {
        /// When the sample was taken (ms since 1970).
        public var atMs: Int
        /// Messages sent per second, over every worker alive.
        public var sentPerSecond: Double
        /// Messages failed for good per second, likewise.
        public var failedPerSecond: Double

        /// Creates a point.
        public init(atMs: Int, sentPerSecond: Double, failedPerSecond: Double) {
            self.atMs = atMs
            self.sentPerSecond = sentPerSecond
            self.failedPerSecond = failedPerSecond
        }
    }

    /// The most points kept; older ones are overwritten.
    public let capacity: Int
    private var ring: [Point] = []
    private var oldest = 0
    private var startedAtMs: Int?
    private var known: [String: Seen] = [:]

    /// What was last seen of one worker process.
    private struct Seen: Equatable {
        var startedAtMs: Int
        var beatAtMs: Int
        var sent: Int
        var failed: Int
        var sentPerSecond: Double
        var failedPerSecond: Double
    }

    /// An empty history keeping up to `capacity` points (at least one).
    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds a point for the heartbeats of the workers alive at `atMs`. A worker absent from
    /// `heartbeats` adds nothing (it stopped or its heartbeat expired).
    public mutating func record(_ heartbeats: [WorkerHeartbeat], atMs: Int) {
        let historyStart = startedAtMs ?? atMs
        startedAtMs = historyStart
        var seen: [String: Seen] = [:]
        for beat in heartbeats {
            var worker: Seen
            if let previous = known[beat.id], previous.startedAtMs == beat.startedAtMs {
                worker = previous
                if beat.beatAtMs > previous.beatAtMs {
                    let seconds = Double(beat.beatAtMs - previous.beatAtMs) / 1000
                    // A process's counters only grow; max() keeps a bad record from going negative.
                    worker.sentPerSecond = Double(max(0, beat.sent - previous.sent)) / seconds
                    worker.failedPerSecond = Double(max(0, beat.failed - previous.failed)) / seconds
                    worker.beatAtMs = beat.beatAtMs
                    worker.sent = beat.sent
                    worker.failed = beat.failed
                }
            } else {
                // First heartbeat seen of this process: its counts since it started give its
                // rate if it started while the history was kept; otherwise they could be hours
                // old, and its rate is known only from its next heartbeat.
                let lifeSeconds = Double(beat.beatAtMs - beat.startedAtMs) / 1000
                let fresh = beat.startedAtMs >= historyStart && lifeSeconds > 0
                worker = Seen(
                    startedAtMs: beat.startedAtMs, beatAtMs: beat.beatAtMs, sent: beat.sent, failed: beat.failed,
                    sentPerSecond: fresh ? Double(beat.sent) / lifeSeconds : 0, failedPerSecond: fresh ? Double(beat.failed) / lifeSeconds : 0)
            }
            seen[beat.id] = worker
        }
        known = seen
        let point = Point(
            atMs: atMs, sentPerSecond: seen.values.reduce(0) { $0 + $1.sentPerSecond },
            failedPerSecond: seen.values.reduce(0) { $0 + $1.failedPerSecond })
        if ring.count < capacity {
            ring.append(point)
        } else {
            ring[oldest] = point
            oldest = (oldest + 1) % capacity
        }
    }

    /// The points kept, oldest first.
    public var points: [Point] { Array(ring[oldest...] + ring[..<oldest]) }
}
