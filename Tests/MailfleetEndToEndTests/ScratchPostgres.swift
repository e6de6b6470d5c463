import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A Postgres server of one test's own, started and stopped with `ops/lib.sh` (as `ops/test`
/// starts the shared one), for a test that stops it under a running fleet.
final class ScratchPostgres: Sendable {
    let dataDir: String
    let port: Int
    /// The `postgres` database, from which a fleet creates its own.
    var adminURL: String { "postgres://postgres@127.0.0.1:\(port)/postgres" }

    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    /// Initialises a data folder under the test state folder and starts the server.
    init(name: String) throws {
        let state = ProcessInfo.processInfo.environment["MAILFLEET_TEST_STATE"] ?? NSTemporaryDirectory()
        dataDir = state + "/\(name)-\(UUID().uuidString.prefix(8).lowercased())-pg"
        port = try freePort()
        try start()
    }

    /// Starts the server (again), waiting until it accepts connections.
    func start() throws {
        // No crash safety needed from a throwaway database, as in ops/test.
        try lib("start_postgres '\(dataDir)' \(port) -c fsync=off -c synchronous_commit=off -c full_page_writes=off")
    }

    /// Stops the server (fast shutdown: open connections are cut).
    func stop() throws {
        try lib("stop_postgres '\(dataDir)'")
    }

    /// Runs `command` with ops/lib.sh loaded. Not through Foundation's `Process`: it learns of a
    /// child's exit through a descriptor the child inherits, and the server pg_ctl leaves running
    /// would inherit it too, so the wait would never end. The shell closes what it inherited.
    private func lib(_ command: String) throws {
        let closeInherited = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done 2>/dev/null; "#
        let arguments = ["/bin/bash", "-c", closeInherited + "cd '\(Self.root)' && . ops/lib.sh && \(command)"]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/bash", nil, nil, &argv, environ)
        guard spawned == 0 else { throw FleetError("\(command): posix_spawn failed (\(spawned))") }
        var status: Int32 = 0
        var waited = waitpid(pid, &status, 0)
        while waited == -1 && errno == EINTR { waited = waitpid(pid, &status, 0) }
        // Exited normally with status 0: no signal bits, exit code in the second byte.
        guard waited == pid, status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw FleetError("\(command) failed (wait status \(status), see \(dataDir)/server.log)")
        }
    }
}
