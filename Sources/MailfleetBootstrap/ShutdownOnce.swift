/// Runs a shutdown at most once; a second caller waits for the first to finish.
actor ShutdownOnce {
    private let body: @Sendable () async -> Void
    private var task: Task<Void, Never>?

    init(_ body: @escaping @Sendable () async -> Void) {
        self.body = body
    }

    func run() async {
        if task == nil { task = Task { [body] in await body() } }
        await task?.value
    }
}
