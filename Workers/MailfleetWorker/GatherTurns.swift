/// Lets one lane of a worker at a time fetch its round (and gather ripe bulk from the
/// partitions), so lanes running side by side do not split messages that could share a
/// provider call; the others wait their turn, which lasts a few fetches, never a provider call.
actor GatherTurns {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` once every earlier turn has ended.
    func take<T: Sendable>(_ body: @Sendable () async throws -> T) async rethrows -> T {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        } else {
            busy = true
        }
        defer { handOver() }
        return try await body()
    }

    private func handOver() {
        if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
    }
}
