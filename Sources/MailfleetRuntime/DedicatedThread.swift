import Foundation

/// A thread of our own that runs blocking work (libpq, hiredis, libcurl calls) one job after
/// another, so that no blocking C call ever runs on Swift's cooperative thread pool.
///
/// Jobs run in submission order. `run` bridges a job's result back to async code with a
/// continuation.
public final class DedicatedThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var jobs: [(@Sendable () -> Void)?] = []
    private var head = 0
    private var stopping = false
    private var finished = false
    /// The name the thread carries (visible in `top -H`, perf and gdb).
    public let name: String

    /// Starts a thread with a name.
    public init(name: String) {
        self.name = name
        let thread = Thread { [self] in self.loop() }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Queues a job; returns false if the thread has been shut down.
    @discardableResult
    public func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if stopping { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Runs `body` on this thread and returns its result to the caller.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = submit {
                continuation.resume(with: Result { try body() })
            }
            if !accepted {
                continuation.resume(throwing: DedicatedThreadError.shutDown(name))
            }
        }
    }

    /// Finishes the jobs already queued, then lets the thread exit. Returns at once.
    public func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    /// Blocks the calling (non-async) thread until the thread has exited.
    public func join() {
        condition.lock()
        while !finished { condition.wait() }
        condition.unlock()
    }

    private func loop() {
        // On Linux a name set before start() does not reach the OS thread; set it from inside.
        Thread.current.name = name
        while true {
            condition.lock()
            while head == jobs.count && !stopping { condition.wait() }
            if head == jobs.count && stopping {
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
            // Release the slot at once: a finished job's closure holds what it captured (a
            // batch insert's parameters can be megabytes) for as long as the slot keeps it.
            let job = jobs[head].take()
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job?()
        }
    }
}

/// Errors of `DedicatedThread`.
public enum DedicatedThreadError: Error, CustomStringConvertible {
    /// The thread no longer takes jobs.
    case shutDown(String)

    public var description: String {
        switch self {
        case .shutDown(let name): return "thread \(name) has been shut down"
        }
    }
}
