import Foundation
import MailfleetRuntime
import Testing

/// Tracks whether an object is still alive.
final class Sentinel: @unchecked Sendable {
    let payload = [UInt8](repeating: 1, count: 1024)
}

@Suite struct DedicatedThreadTests {
    @Test func finishedJobsReleaseWhatTheyCaptured() async throws {
        let thread = DedicatedThread(name: "test-release")
        weak var weakSentinel: Sentinel?
        do {
            let sentinel = Sentinel()
            weakSentinel = sentinel
            let size = try await thread.run { sentinel.payload.count }
            #expect(size == 1024)
        }
        // One more job, so the loop has certainly moved past the first.
        _ = try await thread.run { 0 }
        #expect(weakSentinel == nil, "a finished job's captures must be released")
        thread.shutdown()
    }

    @Test func jobsRunInOrder() async throws {
        let thread = DedicatedThread(name: "test-order")
        let log = Locked<[Int]>([])
        for i in 0..<2000 { thread.submit { log.withLock { $0.append(i) } } }
        _ = try await thread.run { 0 }
        #expect(log.withLock { $0 } == Array(0..<2000))
        thread.shutdown()
    }
}
