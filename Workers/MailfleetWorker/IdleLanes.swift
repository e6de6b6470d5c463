import MailfleetCore
import MailfleetRuntime

/// Carries out `IdleWatch` for a worker's lanes: a lane whose sweep found nothing is told to
/// watch at once (it sleeps the idle delay and sweeps again), or is suspended until another
/// lane finds work or the worker stops, and then sweeps at once.
final class IdleLanes: Sendable {
    private struct State {
        var watch = IdleWatch()
        var parked: [Int: CheckedContinuation<IdleWatch.Turn, Never>] = [:]
    }

    private let state = Locked(State())

    /// `lane`'s sweep found nothing: returns `.watch` at once, or `.wait` once it was woken.
    func foundNothing(lane: Int) async -> IdleWatch.Turn {
        await withCheckedContinuation { (continuation: CheckedContinuation<IdleWatch.Turn, Never>) in
            let turn = state.withLock { state in
                let turn = state.watch.foundNothing(lane: lane)
                if turn == .wait { state.parked[lane] = continuation }
                return turn
            }
            if turn == .watch { continuation.resume(returning: .watch) }
        }
    }

    /// `lane`'s sweep found work: wakes every waiting lane.
    func foundWork(lane: Int) {
        let woken = state.withLock { state in state.watch.foundWork(lane: lane).compactMap { state.parked.removeValue(forKey: $0) } }
        for continuation in woken { continuation.resume(returning: .wait) }
    }

    /// The worker stops: wakes every waiting lane, and none waits again.
    func stop() {
        let woken = state.withLock { state in state.watch.stop().compactMap { state.parked.removeValue(forKey: $0) } }
        for continuation in woken { continuation.resume(returning: .wait) }
    }
}
