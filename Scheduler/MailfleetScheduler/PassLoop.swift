import Logging
import MailfleetCore
import ServiceLifecycle

/// The loop the scheduler's runners share (campaigns, drip sequences): a pass, then at once
/// another when the pass found work, else after `idleWait`; a Postgres outage is logged when it
/// begins and ends, not per failed pass, and waits grow while it lasts. A pass under way
/// finishes when graceful shutdown begins; the wait between passes does not.
struct PassLoop {
    /// The wait after a pass that found nothing.
    let idleWait: Duration
    /// The runner's name in log lines ("campaign runner").
    let name: String
    let logger: Logger

    /// Runs `pass` until graceful shutdown; `pass` answers whether more work may be due now.
    func run(_ pass: () async throws -> Bool) async {
        let clock = MonotonicMilliseconds()
        var outage = Outage()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            var wait = idleWait
            do {
                let busy = try await pass()
                if let over = outage.succeeded(atMs: clock.nowMs()) {
                    logger.info("\(name): Postgres reachable again", metadata: ["outage_ms": "\(over.durationMs)"])
                }
                if busy { wait = .zero }
            } catch {
                if outage.failed(atMs: clock.nowMs()) {
                    logger.error("\(name): a pass failed; retrying", metadata: ["error": "\(error)"])
                }
                wait = .milliseconds(outage.delayMs)
            }
            if wait > .zero {
                let pause = wait
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
            }
        }
    }
}
