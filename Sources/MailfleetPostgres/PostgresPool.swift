import MailfleetRuntime

/// A fixed set of connections, each living on its own `DedicatedThread`, handed out FIFO to async callers.
public final class PostgresPool: Sendable {
    private let url: String
    private let name: String
    private let slots: [PostgresPoolSlot]
    private let state: Locked<PoolState>

    private struct Waiter {
        let id: UInt64
        let continuation: CheckedContinuation<Int, Error>
    }

    private struct PoolState {
        /// Free slot indices; used as a stack so that a lightly loaded pool keeps reusing warm connections.
        var free: [Int]
        /// Callers waiting for a slot, oldest first.
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isShutDown = false
    }

    /// Creates the pool and its threads; connections are opened lazily, on first use of each slot.
    public init(url: String, size: Int = 4, name: String = "pg") {
        precondition(size > 0, "PostgresPool needs at least one connection")
        self.url = url
        self.name = name
        self.slots = (0..<size).map { PostgresPoolSlot(thread: DedicatedThread(name: "\(name)-\($0)")) }
        self.state = Locked(PoolState(free: Array((0..<size).reversed())))
    }

    deinit {
        // Without this the threads would wait for jobs forever once the pool is gone.
        for slot in slots {
            slot.thread.submit { slot.close() }
            slot.thread.shutdown()
        }
    }

    /// Waits for a free connection and runs `body` with it on that connection's thread.
    /// A broken connection is replaced first; one that fails inside `body` is dropped and replaced on next use.
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        let index = try await acquire()
        defer { release(index) }
        let slot = slots[index]
        let url = self.url
        return try await slot.thread.run { try slot.use(url: url, body) }
    }

    /// Runs one parameterised statement on any free connection.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) async throws -> PostgresRows {
        try await withConnection { try $0.query(sql, parameters) }
    }

    /// Runs `body` in a transaction on one connection: COMMIT when it returns, ROLLBACK when it throws.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        try await withConnection { connection in try connection.transaction { try body(connection) } }
    }

    /// Fails waiting callers, closes every connection after its current work, and stops the threads.
    public func shutdown() async {
        let waiters = state.withLock { state -> [Waiter] in
            state.isShutDown = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.continuation.resume(throwing: shutDownError) }
        for slot in slots {
            _ = try? await slot.thread.run { slot.close() }
            slot.thread.shutdown()
        }
    }

    private var shutDownError: PostgresError {
        PostgresError(message: "Postgres pool \(name) has been shut down")
    }

    /// Takes a free slot, or queues the caller (without polling) until `release` hands one over.
    private func acquire() async throws -> Int {
        let id = state.withLock { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, Error>) in
                let immediate = state.withLock { state -> Result<Int, Error>? in
                    if state.isShutDown { return .failure(shutDownError) }
                    // Checked under the lock so a cancellation racing with the append is never missed.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let index = state.free.popLast() { return .success(index) }
                    state.waiters.append(Waiter(id: id, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> Waiter? in
                guard let position = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: position)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Hands a slot to the oldest waiter, or marks it free.
    private func release(_ index: Int) {
        let waiter = state.withLock { state -> Waiter? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.free.append(index)
            return nil
        }
        waiter?.continuation.resume(returning: index)
    }
}
