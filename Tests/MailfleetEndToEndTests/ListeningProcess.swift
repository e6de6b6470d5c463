import Foundation
import MailfleetHTTPClient
#if canImport(Glibc)
import Glibc
#endif

/// Starts an executable that listens on `--port` and waits until it is ready.
///
/// A port chosen by `freePort()` can be taken by someone else before the process binds it, and
/// then another process would answer our readiness checks. So a process counts as ready only
/// when it is running, holds a listening socket on its port (read from /proc), and answers
/// `GET /readyz` with 200; one that exits because the port was taken is started again on another.
enum ListeningProcess {
    static func start(
        executable: String, arguments: [String] = [], environment: [String: String], logPath: String,
        http: HTTPClient, seconds: Double = 60, attempts: Int = 5
    ) async throws -> (Process, Int) {
        for attempt in 1...attempts {
            let port = try freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments + ["--port", "\(port)"]
            process.environment = environment
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if !process.isRunning { break }
                if ownsListener(pid: process.processIdentifier, port: port),
                   let response = try? await http.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/readyz", timeout: .seconds(2))),
                   response.status == 200 {
                    return (process, port)
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
                throw FleetError("\(executable) did not become ready on port \(port) within \(Int(seconds)) s; log: \(logPath)")
            }
            process.waitUntilExit()
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            guard output.contains("Address already in use"), attempt < attempts else {
                throw FleetError("\(executable) exited with status \(process.terminationStatus) during start; log: \(logPath)")
            }
        }
        throw FleetError("\(executable) found no free port in \(attempts) attempts")
    }

    /// Whether process `pid` holds a socket listening on TCP `port` (IPv4 or IPv6).
    static func ownsListener(pid: Int32, port: Int) -> Bool {
        let inodes = listeningInodes(port: port)
        guard !inodes.isEmpty, let fds = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd") else { return false }
        for fd in fds {
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
               target.hasPrefix("socket:["), inodes.contains(String(target.dropFirst(8).dropLast())) {
                return true
            }
        }
        return false
    }

    /// Socket inodes in state LISTEN (0A) on `port`, from /proc/net/tcp and tcp6.
    private static func listeningInodes(port: Int) -> Set<String> {
        let hexPort = String(format: "%04X", port)
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = try? String(contentsOfFile: table, encoding: .utf8) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count > 9, fields[3] == "0A", fields[1].hasSuffix(":" + hexPort) else { continue }
                inodes.insert(String(fields[9]))
            }
        }
        return inodes
    }
}

/// At most two fleets at a time across every suite: each is five or more processes, and Swift
/// Testing runs suites in parallel, so without a limit a two-core machine would start six.
actor FleetSlots {
    static let shared = FleetSlots(limit: 2)

    private let limit: Int
    private var inUse = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Waits for a free slot and takes it.
    func acquire() async {
        if inUse < limit {
            inUse += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    /// Gives a slot back, handing it straight to the longest waiter if there is one.
    func release() {
        if waiting.isEmpty {
            inUse -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
