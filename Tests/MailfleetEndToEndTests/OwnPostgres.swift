import Foundation

/// A Postgres server of one test's own, started with ops/lib.sh's `start_postgres` in a folder of
/// the test state on a free port, so the test can stop and start it without touching the
/// shared test server other tests are using.
final class OwnPostgres: Sendable {
    let dataDir: String
    let port: Int

    /// The admin URL (database `postgres`), for `Fleet.start(adminDatabaseURL:)`.
    var adminURL: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    private static let libPath = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ops/lib.sh").path

    /// Initialises and starts a new server.
    init(name: String) throws {
        let state = ProcessInfo.processInfo.environment["MAILFLEET_TEST_STATE"] ?? NSTemporaryDirectory()
        dataDir = "\(state)/pg-\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        port = try freePort()
        try start()
    }

    /// Starts the server (again) and waits until it accepts connections.
    func start() throws {
        try Self.lib("start_postgres '\(dataDir)' \(port) -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    }

    /// Stops the server (fast shutdown: open connections are cut).
    func stop() throws {
        try Self.lib("stop_postgres '\(dataDir)'")
    }

    private static func lib(_ command: String) throws {
        _ = try runToCompletion("/bin/bash", ["-c", ". '\(libPath)' && \(command)"], name: command)
    }
}
