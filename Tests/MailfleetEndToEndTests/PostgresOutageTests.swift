import Foundation
import MailfleetHTTPClient
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Postgres stopped under a running fleet (its own server, so nobody else's tests notice):
/// sends get 503 with Retry-After, never 202; /readyz says not ready; workers and scheduler stay
/// up, log the outage once rather than per round, and resume on their own when Postgres is
/// back; every 202 is delivered. A worker started while Postgres is down waits rather than exits.
@Suite(.serialized) struct PostgresOutageTests {
    @Test func sendsAre503WhileDownAndEveryAcceptedMessageIsDeliveredAfter() async throws {
        let postgres = try ScratchPostgres(name: "outage")
        defer { try? postgres.stop() }
        // A short lease, so work caught in flight by the outage comes back within seconds.
        let fleet = try await Fleet.start(
            "pg-outage", workers: 1, provider: .sendgrid, environment: ["MAILFLEET_LEASE_SECONDS": "5"], adminDatabaseURL: postgres.adminURL)
        defer { fleet.stopNow() }
        var accepted: Set<String> = []
        func send(_ i: Int) async throws -> HTTPResponse {
            let response = try await fleet.api(
                "POST", "/v1/messages", json: #"{"from":"a@example.com","to":["u\#(i)@example.com"],"subject":"S\#(i)","text":"x"}"#)
            if response.status == 202, let id = Fleet.object(response)["id"] as? String { accepted.insert(id) }
            return response
        }
        for i in 0..<10 { #expect(try await send(i).status == 202) }
        let first = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == 10 }
        try #require(first)

        // A round in flight when Postgres goes: its outcomes cannot be written, so the worker
        // must wait it out and send again (these may be delivered twice, never lost).
        try await fleet.simControl(#"{"latency_ms":2000}"#)
        for i in 10..<20 { #expect(try await send(i).status == 202) }
        let inFlight = try await fleet.eventually(seconds: 30) { (try await fleet.simStats()["inflight"] as? Int ?? 0) >= 1 }
        #expect(inFlight)
        try postgres.stop()
        try await fleet.simControl("{}")
        // Past the API's 10 s key cache too, so authentication meets the outage as well.
        let outageEnds = Date().addingTimeInterval(12)
        var refused = 0
        var i = 100
        while Date() < outageEnds {
            let response = try await send(i)
            i += 1
            #expect(response.status == 503, "send during the outage answered \(response.status)")
            if response.status == 503 {
                refused += 1
                #expect(response.header("Retry-After").flatMap { Int($0) } ?? 0 >= 1)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(refused > 10)
        let ready = try await fleet.http.execute(HTTPRequest(url: fleet.apiURL + "/readyz"))
        #expect(ready.status == 503)
        // A worker and an API started now come up and wait (they must not exit for want of
        // Postgres); the new API answers 503 as well.
        func startLate(_ executable: String, _ key: String) throws -> (Process, Int) {
            let port = try freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "\(fleet.binDir)/\(executable)")
            process.arguments = ["--port", "\(port)"]
            process.environment = fleet.baseEnvironment
            let logPath = "\(fleet.stateDir)/\(key).log"
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            process.standardError = process.standardOutput
            try process.run()
            return (process, port)
        }
        let (late, latePort) = try startLate("mailfleet-worker", "worker-late")
        defer { if late.isRunning { late.terminate(); late.waitUntilExit() } }
        let (lateAPI, lateAPIPort) = try startLate("mailfleet-api", "api-late")
        defer { if lateAPI.isRunning { lateAPI.terminate(); lateAPI.waitUntilExit() } }
        func sendToLateAPI(_ i: Int) async throws -> Int {
            let response = try await fleet.http.execute(HTTPRequest(
                method: "POST", url: "http://127.0.0.1:\(lateAPIPort)/v1/messages",
                headers: [HTTPHeader("Authorization", "Bearer \(fleet.apiKey)"), HTTPHeader("Content-Type", "application/json")],
                body: Array(#"{"from":"a@example.com","to":["late\#(i)@example.com"],"subject":"L","text":"x"}"#.utf8)))
            if response.status == 202, let id = Fleet.object(response)["id"] as? String { accepted.insert(id) }
            return response.status
        }
        let lateAPIUp = try await fleet.eventually(seconds: 30) {
            (try? await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(lateAPIPort)/healthz")))?.status == 200
        }
        #expect(lateAPIUp)
        #expect(try await sendToLateAPI(0) == 503)
        try await Task.sleep(for: .seconds(2))
        #expect(late.isRunning && lateAPI.isRunning)
        for key in ["api", "scheduler", "worker-0"] { #expect(fleet.process(key)?.isRunning == true, "\(key) exited during the outage") }

        try postgres.start()
        // The API recovers by itself: no restart.
        let recovered = try await fleet.eventually(seconds: 30) { try await send(i).status == 202 }
        #expect(recovered)
        for j in 0..<10 { #expect(try await send(1000 + j).status == 202) }
        let lateReady = try await fleet.eventually(seconds: 30) {
            (try? await fleet.http.execute(HTTPRequest(url: "http://127.0.0.1:\(latePort)/readyz")))?.status == 200
        }
        #expect(lateReady)
        let lateAPIRecovered = try await fleet.eventually(seconds: 30) { try await sendToLateAPI(1) == 202 }
        #expect(lateAPIRecovered)

        // Every 202 is delivered, none lost.
        let ids = Array(accepted)
        let delivered = try await fleet.eventually(seconds: 90) {
            try await fleet.pool.query("SELECT count(*) AS n FROM messages WHERE status = 'sent' AND id = ANY($1::uuid[])", [ids.compactMap { UUID(uuidString: $0) }])
                .first!.int("n") == ids.count
        }
        #expect(delivered, "accepted \(ids.count)")
        #expect(try await fleet.count(status: "sent") == ids.count)
        #expect(try await fleet.simStats()["unique_messages"] as? Int == ids.count)

        // The worker that met the outage resumes too: with the late one gone, it alone sends.
        late.terminate()
        late.waitUntilExit()
        for j in 0..<5 { #expect(try await send(2000 + j).status == 202) }
        let resumed = try await fleet.eventually(seconds: 60) { try await fleet.count(status: "sent") == accepted.count }
        #expect(resumed)

        // It logged the outage once per lane rather than once per failed round, and said when
        // rounds went through again.
        let workerLog = try String(contentsOfFile: "\(fleet.stateDir)/worker-0.log", encoding: .utf8)
        // The default four lanes and the transactional lane.
        let lanes = 4 + 1
        let reported = workerLog.components(separatedBy: "worker round failed;").count - 1
        #expect(reported >= 1 && reported <= lanes, "\(reported) outage reports")
        #expect(workerLog.contains("worker rounds resumed"))
    }
}
