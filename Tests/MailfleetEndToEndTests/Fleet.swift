import Foundation
import MailfleetHTTPClient
import MailfleetPostgres
import MailfleetStore
#if canImport(Glibc)
import Glibc
#endif

/// A whole fleet started from the built executables for one test: its own database, its own
/// Redis database index, free ports, and log files under the test state folder.
final class Fleet: @unchecked Sendable {
    enum Provider: String, Sendable, CaseIterable { case outbox, sendgrid, mailgun, postmark, ses, smtp }

    let name: String
    let databaseURL: String
    let redisURL: String
    let binDir: String
    let stateDir: String
    let outboxDir: String
    let trackingSecret = "e2e-tracking-secret"
    private(set) var apiPort = 0, trackerPort = 0, simPort = 0, schedulerPort = 0
    var workerPorts: [Int] = []
    private(set) var processes: [String: Process] = [:]
    let http = HTTPClient(name: "e2e-http")
    let pool: PostgresPool
    private(set) var tenantID = ""
    private(set) var apiKey = ""

    var apiURL: String { "http://127.0.0.1:\(apiPort)" }
    var trackerURL: String { "http://127.0.0.1:\(trackerPort)" }
    var simURL: String { "http://127.0.0.1:\(simPort)" }

    private static let redisIndex = RedisIndex()

    /// Starts sim, tracker, api, scheduler and `workers` workers; creates a tenant whose chain
    /// is the given provider. At most two fleets run at once (`FleetSlots`), so a loaded
    /// two-core machine runs the suite the same way as an idle one. `adminDatabaseURL` puts
    /// the fleet's database on another Postgres than the test one (a test that stops it).
    /// `restoring` fills the new database from an `ops/backup` file with `ops/restore` and
    /// takes over its first tenant and provider account (pointed at this fleet's simulator).
    static func start(
        _ name: String, workers: Int = 2, provider: Provider = .sendgrid, environment: [String: String] = [:],
        smtpServer: SMTPTestServer? = nil, adminDatabaseURL: String? = nil, restoring backup: String? = nil
    ) async throws -> Fleet {
        await FleetSlots.shared.acquire()
        let fleet: Fleet
        do { fleet = try Fleet(name: name, adminDatabaseURL: adminDatabaseURL) } catch { await FleetSlots.shared.release(); throw error }
        do {
            try await fleet.prepareDatabase()
            if let backup { try fleet.restore(backup) }
            try fleet.cli(["migrate"])
            if backup != nil {
                fleet.tenantID = try await fleet.pool.query("SELECT id::text AS id FROM tenants ORDER BY created_at LIMIT 1").first!.string("id")
            } else {
                fleet.tenantID = try fleet.cli(["tenants", "create", "--name", name]).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            fleet.apiKey = try fleet.cli(["keys", "create", "--tenant", fleet.tenantID, "--scopes", "send,read"]).trimmingCharacters(in: .whitespacesAndNewlines)
            fleet.smtpServer = smtpServer
            // In dependency order: the provider account names the simulator's URL, and workers
            // are given the tracker's.
            fleet.simPort = try await fleet.launch("sim", "mailfleet-sim", environment)
            if backup != nil {
                try await fleet.pool.query("UPDATE provider_accounts SET endpoint = $1 WHERE tenant_id = $2::uuid", [fleet.simURL, fleet.tenantID])
            } else {
                try fleet.addProvider(provider, tenant: fleet.tenantID)
            }
            fleet.trackerPort = try await fleet.launch("tracker", "mailfleet-tracker", environment)
            fleet.apiPort = try await fleet.launch("api", "mailfleet-api", environment)
            fleet.schedulerPort = try await fleet.launch("scheduler", "mailfleet-scheduler", environment)
            for i in 0..<workers { try await fleet.startWorker(i, environment: environment) }
        } catch {
            // A fleet that failed to start must not leave its processes running into the next test.
            fleet.stopNow()
            throw error
        }
        return fleet
    }

    private init(name: String, adminDatabaseURL: String?) throws {
        let env = ProcessInfo.processInfo.environment
        guard let bin = env["MAILFLEET_BIN_DIR"], let admin = adminDatabaseURL ?? env["MAILFLEET_TEST_ADMIN_DATABASE_URL"],
              let redis = env["MAILFLEET_TEST_REDIS_URL"] else {
            throw FleetError("MAILFLEET_BIN_DIR / MAILFLEET_TEST_ADMIN_DATABASE_URL / MAILFLEET_TEST_REDIS_URL are not set: run ./ops/test")
        }
        let suffix = UUID().uuidString.prefix(8).lowercased()
        self.name = "\(name)-\(suffix)"
        let dbName = "mf_e2e_\(suffix)"
        databaseURL = String(admin[..<admin.lastIndex(of: "/")!]) + "/\(dbName)"
        let index = Fleet.redisIndex.next()
        redisURL = String(redis[..<redis.lastIndex(of: "/")!]) + "/\(index)"
        binDir = bin
        stateDir = (env["MAILFLEET_TEST_STATE"] ?? NSTemporaryDirectory()) + "/e2e-\(self.name)"
        outboxDir = stateDir + "/outbox"
        try FileManager.default.createDirectory(atPath: outboxDir, withIntermediateDirectories: true)
        pool = PostgresPool(url: databaseURL, size: 2, name: "e2e-pg")
        adminURL = admin
        self.dbName = dbName
    }

    private var smtpServer: SMTPTestServer?
    private let adminURL: String
    private let dbName: String

    private func prepareDatabase() async throws {
        let admin = PostgresPool(url: adminURL, size: 1, name: "e2e-admin")
        try await admin.query("CREATE DATABASE \(dbName)")
        await admin.shutdown()
        try flushRedis()
    }

    /// Runs `ops/restore` of `backup` into this fleet's (empty) database.
    private func restore(_ backup: String) throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        _ = try runToCompletion("\(root)/ops/restore", [backup, databaseURL], name: "ops/restore")
    }

    /// Empties this fleet's Redis database.
    func flushRedis() throws {
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let port = URL(string: redisURL)?.port ?? 6379
        let index = URL(string: redisURL)?.path.dropFirst() ?? "0"
        redis.arguments = ["redis-cli", "-p", "\(port)", "-n", String(index), "FLUSHDB"]
        redis.standardOutput = FileHandle.nullDevice
        try redis.run()
        redis.waitUntilExit()
    }

    func addProvider(_ provider: Provider, tenant: String) throws {
        switch provider {
        case .outbox:
            try cli(["providers", "add", "--tenant", tenant, "--name", "outbox", "--kind", "outbox", "--priority", "10"])
        case .sendgrid:
            let secretFile = stateDir + "/sendgrid.key"
            try "SG.e2e-test-key".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try cli(["providers", "add", "--tenant", tenant, "--name", "sim", "--kind", "sendgrid", "--endpoint", simURL, "--priority", "10", "--secret-file", secretFile])
        case .mailgun:
            let secretFile = stateDir + "/mailgun.key"
            try "key-e2e-test".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try cli(["providers", "add", "--tenant", tenant, "--name", "sim", "--kind", "mailgun", "--endpoint", simURL, "--priority", "10", "--secret-file", secretFile, "--config", "domain=mg.example.com"])
        case .postmark:
            let secretFile = stateDir + "/postmark.key"
            try "pm-e2e-server-token".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try cli(["providers", "add", "--tenant", tenant, "--name", "sim", "--kind", "postmark", "--endpoint", simURL, "--priority", "10", "--secret-file", secretFile])
        case .smtp:
            guard let smtpServer else { throw FleetError("an smtp fleet needs an SMTP test server") }
            let secretFile = stateDir + "/smtp.key"
            try "\(smtpServer.user):\(smtpServer.password)".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try cli(["providers", "add", "--tenant", tenant, "--name", "smtp", "--kind", "smtp", "--endpoint", smtpServer.url, "--priority", "10", "--secret-file", secretFile, "--config", "tls=none"])
        case .ses:
            let secretFile = stateDir + "/ses.key"
            try "AKIDE2ETEST:e2e/secret+key".write(toFile: secretFile, atomically: true, encoding: .utf8)
            try cli(["providers", "add", "--tenant", tenant, "--name", "sim", "--kind", "ses", "--endpoint", simURL, "--priority", "10", "--secret-file", secretFile, "--config", "region=us-east-1"])
        }
    }

    var baseEnvironment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["MAILFLEET_DATABASE_URL"] = databaseURL
        env["MAILFLEET_REDIS_URL"] = redisURL
        env["MAILFLEET_OUTBOX_DIR"] = outboxDir
        env["MAILFLEET_TRACKER_URL"] = trackerURL
        env["MAILFLEET_TRACKING_SECRET"] = trackingSecret
        env["MAILFLEET_PARTITIONS"] = "4"
        // The tests read the simulators' per-message records (unique and duplicate deliveries,
        // arrivals, recipients' variables); by default a simulator keeps only counters.
        env["MAILFLEET_SIM_RECORD"] = "all"
        env["MAILFLEET_LOG_LEVEL"] = "info"
        // The tests' webhook receivers listen on this machine over http: allowed as for local
        // development (production refuses both; the egress tests check that).
        env["MAILFLEET_WEBHOOK_ALLOW_HTTP"] = "true"
        env["MAILFLEET_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
        return env
    }

    /// Runs the admin CLI against this fleet's database and returns its stdout.
    @discardableResult
    func cli(_ arguments: [String]) throws -> String {
        let data = try runToCompletion(
            "\(binDir)/mailfleet", arguments, environment: baseEnvironment, name: "mailfleet \(arguments.joined(separator: " "))")
        return String(decoding: data, as: UTF8.self)
    }

    func startWorker(_ index: Int, environment: [String: String] = [:]) async throws {
        workerPorts.append(try await launch("worker-\(index)", "mailfleet-worker", environment))
    }

    /// Starts an executable on a port of its own and waits until it is ready; returns the port.
    func launch(_ key: String, _ executable: String, _ environment: [String: String]) async throws -> Int {
        let (process, port) = try await ListeningProcess.start(
            executable: "\(binDir)/\(executable)", environment: baseEnvironment.merging(environment) { _, new in new },
            logPath: "\(stateDir)/\(key).log", http: http)
        processes[key] = process
        return port
    }

    func process(_ key: String) -> Process? { processes[key] }

    /// Starts the API again (after it was killed) on a new port; `apiURL` names the new one.
    func restartAPI(environment: [String: String] = [:]) async throws {
        apiPort = try await launch("api", "mailfleet-api", environment)
    }

    /// Sends a request to the API with the tenant's key.
    func api(_ method: String, _ path: String, json: String? = nil, headers: [HTTPHeader] = [], key: String? = nil) async throws -> HTTPResponse {
        var all = [HTTPHeader("Authorization", "Bearer \(key ?? apiKey)")] + headers
        if json != nil { all.append(HTTPHeader("Content-Type", "application/json")) }
        return try await http.execute(HTTPRequest(method: method, url: apiURL + path, headers: all, body: Array((json ?? "").utf8)))
    }

    /// The counters of the fleet's simulator, or of the one at `url`.
    func simStats(at url: String? = nil) async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(url: (url ?? simURL) + "/_stats"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    /// Sets the faults of the fleet's simulator, or of the one at `url`.
    func simControl(_ json: String, at url: String? = nil) async throws {
        _ = try await http.execute(HTTPRequest(method: "POST", url: (url ?? simURL) + "/_control", headers: [HTTPHeader("Content-Type", "application/json")], body: Array(json.utf8)))
    }

    func count(status: String) async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM messages WHERE \(MessageStore.shownStatus()) = $1", [status]).first!.int("n")
    }

    /// Checks `condition` until `date`; returns false as soon as it does not hold.
    func holds(until date: Date, _ condition: () async throws -> Bool) async throws -> Bool {
        while Date() < date {
            if try await !condition() { return false }
            try await Task.sleep(for: .milliseconds(100))
        }
        return true
    }

    /// Polls until `condition` holds or the time runs out; returns whether it held.
    func eventually(seconds: Double = 60, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }

    /// Sends SIGTERM to every process and waits (blocking) for them; for `defer`, which cannot await.
    func stopNow() {
        for process in processes.values where process.isRunning { process.terminate() }
        for process in processes.values {
            let deadline = Date().addingTimeInterval(30)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        }
        http.shutdown()
        releaseSlot()
    }

    /// Sends SIGTERM to every process and waits for them.
    func stop() async {
        for process in processes.values where process.isRunning { process.terminate() }
        for process in processes.values { await waitForExit(process, seconds: 30) }
        http.shutdown()
        await pool.shutdown()
        releaseSlot()
    }

    private let slotLock = NSLock()
    private var slotHeld = true

    /// Gives this fleet's slot back once, whichever of `stop` and `stopNow` runs (or both).
    private func releaseSlot() {
        slotLock.lock()
        let held = slotHeld
        slotHeld = false
        slotLock.unlock()
        if held { Task { await FleetSlots.shared.release() } }
    }

    func waitForExit(_ process: Process, seconds: Double) async {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { try? await Task.sleep(for: .milliseconds(50)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
    }

    /// JSON body of a response.
    static func object(_ response: HTTPResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }
}

/// Runs a program to its end and returns its stdout; a non-zero exit throws with its stderr.
func runToCompletion(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, name: String) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw FleetError("\(name) failed: \(String(decoding: errors, as: UTF8.self))") }
    return data
}

struct FleetError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Hands out Redis database indexes 1...15 so concurrent fleets never share keys.
final class RedisIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value = value % 15 + 1
        return value
    }
}

/// A TCP port nobody listens on right now (the kernel picks it).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw FleetError("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw FleetError("bind failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
