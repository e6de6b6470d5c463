import Foundation
import Logging
import MailfleetCore
import MailfleetRuntime
import MailfleetStore
import ServiceLifecycle

/// This worker's heartbeat: the sender counts its rounds and provider calls here, and this
/// service writes them to Redis every `interval` with an expiry of a few intervals, so the
/// status page sees which workers are alive and what they do. On graceful shutdown (after the
/// sender has drained, as it is listed before it) the record is removed at once.
public final class Heartbeat: Service {
    /// This process's worker id: host, pid and a random suffix, unique per start.
    public let id: String
    private let host: String
    private let pid: Int
    private let startedAtMs: Int
    private let store: WorkerHeartbeatStore
    private let interval: Duration
    private let tally = Locked(WorkerTally())
    private let logger: Logger

    /// Creates the heartbeat of this process; beats every `interval` (default 2 s).
    public init(store: WorkerHeartbeatStore, interval: Duration = .seconds(2), logger: Logger) {
        host = ProcessInfo.processInfo.hostName
        pid = Int(ProcessInfo.processInfo.processIdentifier)
        id = "\(host)-\(pid)-\(UUID().uuidString.prefix(8).lowercased())"
        startedAtMs = Self.wallClockMs()
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Counts one round's outcomes.
    func count(sent: Int, failed: Int, deferred: Int) {
        tally.withLock { $0.count(sent: sent, failed: failed, deferred: deferred) }
    }

    /// Records one provider call's duration.
    func recordCall(account: UUID, duration: Duration) {
        tally.withLock { $0.recordCall(account: account, milliseconds: Double(duration.wholeMilliseconds)) }
    }

    /// The heartbeat as it would be written now.
    public func current() -> WorkerHeartbeat {
        let tally = tally.withLock { $0 }
        return tally.heartbeat(id: id, host: host, pid: pid, startedAtMs: startedAtMs, nowMs: Self.wallClockMs())
    }

    /// Beats until graceful shutdown, then removes the record.
    public func run() async throws {
        // Three missed beats before the record expires: one slow Redis answer is not a death.
        let ttlMs = interval.wholeMilliseconds * 3
        var outage = Outage()
        let clock = MonotonicMilliseconds()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await store.beat(current(), ttlMs: ttlMs)
                if let ended = outage.succeeded(atMs: clock.nowMs()) {
                    logger.info("worker heartbeats resumed", metadata: ["outage_ms": "\(ended.durationMs)"])
                }
            } catch {
                if outage.failed(atMs: clock.nowMs()) {
                    logger.warning("worker heartbeat not written; the status page may miss this worker", metadata: ["error": "\(error)"])
                }
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.interval) }
        }
        do {
            try await store.remove(worker: id)
        } catch {
            logger.debug("worker heartbeat not removed; it expires by itself", metadata: ["error": "\(error)"])
        }
    }

    private static func wallClockMs() -> Int { Int(Date().timeIntervalSince1970 * 1000) }
}
