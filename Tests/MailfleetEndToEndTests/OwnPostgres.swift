import Foundation
#if canImport(Glibc)
import Glibc
#endif

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
        try lib("start_postgres '\(dataDir)' \(port) -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    }

    /// Stops the server (fast shutdown: open connections are cut).
    func stop() throws {
        try lib("stop_postgres '\(dataDir)'")
    }

    /// Runs a lib.sh function with its output in a log file, never a pipe: the server it starts
    /// inherits the descriptors, and a pipe it holds open would never reach its end.
    private func lib(_ command: String) throws {
        let logPath = dataDir + ".ops.log"
        if !FileManager.default.fileExists(atPath: logPath) { _ = FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        try log.seekToEnd()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", ". '\(Self.libPath)' && \(command)"]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // Reaped here rather than through `waitUntilExit`, which was seen to miss the exit of a
        // shell whose grandchild (the server) lives on, while other tests start processes.
        var status: Int32 = 0
        var reaped = waitpid(process.processIdentifier, &status, 0)
        while reaped == -1 && errno == EINTR { reaped = waitpid(process.processIdentifier, &status, 0) }
        let exitedWell = reaped == process.processIdentifier
            ? (status & 0x7f) == 0 && (status >> 8) & 0xff == 0
            : { process.waitUntilExit(); return process.terminationStatus == 0 }()
        guard exitedWell else {
            throw FleetError("\(command) failed: \((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        }
    }
}
