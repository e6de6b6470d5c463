import Foundation
import MailfleetCore
import MailfleetHTTPClient
import Testing

/// Webhooks out end to end: provider bounce webhooks posted to the real tracker reach the
/// tenant's endpoint signed (checked by the PyPI `standardwebhooks` package), and a tracker
/// killed with SIGKILL in the middle of delivering loses none of them.
@Suite(.serialized) struct WebhookDeliveryTests {
    @Test func bouncesReachTheEndpointSignedAndAKilledTrackerLosesNone() async throws {
        // A 1 s request timeout makes the lease (depth 9 × 1 s + 5 s) short enough to wait out.
        let fleet = try await Fleet.start(
            "webhooks-out", workers: 1, provider: .postmark, environment: ["MAILFLEET_WEBHOOK_TIMEOUT_SECONDS": "1", "MAILFLEET_WEBHOOK_POLL_SECONDS": "0.05"])
        defer { fleet.stopNow() }
        let log = fleet.stateDir + "/webhooks-received.jsonl"
        let receiver = try await Receiver.start(log: log, delayMs: 150)
        defer { receiver.stop() }

        let created = try fleet.cli([
            "webhooks", "create", "--tenant", fleet.tenantID, "--url", "http://127.0.0.1:\(receiver.port)/hook", "--event-types", "email.bounced", "--json",
        ])
        let endpoint = try #require(try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])
        let secret = try #require(endpoint["secret"] as? String)

        let shown = try fleet.cli(["providers", "webhook", "--tenant", fleet.tenantID, "--account", "sim", "--tracker-url", fleet.trackerURL])
            .split(separator: "\n").map(String.init)
        let webhookPath = String(shown[0][shown[0].range(of: "/webhooks/")!.lowerBound...])
        let password = shown[1]
        let answer = try await fleet.api("POST", "/v1/messages", json: #"{"from":"a@example.com","to":["gone@example.com"],"subject":"s","text":"t"}"#)
        let message = try #require(Fleet.object(answer)["id"] as? String)
        #expect(try await fleet.eventually { try await fleet.count(status: "sent") == 1 })

        // 40 bounce reports (distinct Postmark ids), posted one by one; the tracker is killed
        // with SIGKILL once some have arrived, while others are being delivered.
        let total = 40
        var trackerURL = fleet.trackerURL
        for n in 1...total {
            let bounce = """
                {"RecordType":"Bounce","ID":\(9000 + n),"Type":"HardBounce","TypeCode":1,"MessageID":"pm-1","Email":"gone@example.com",
                 "Details":"550 5.1.1 no such user","BouncedAt":"\(ISO8601.format(Date()))","Metadata":{"mailfleet_message_id":"\(message)"}}
                """
            let response = try await fleet.http.execute(HTTPRequest(
                method: "POST", url: trackerURL + webhookPath,
                headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("Authorization", "Basic " + Data("mailfleet:\(password)".utf8).base64EncodedString())],
                body: Array(bounce.utf8)))
            #expect(response.status == 200)
            if n == total / 2 {
                #expect(try await fleet.eventually(seconds: 30) { receiver.received().count >= 3 })
                let tracker = try #require(fleet.process("tracker"))
                kill(tracker.processIdentifier, SIGKILL)
                tracker.waitUntilExit()
                trackerURL = "http://127.0.0.1:\(try await fleet.launch("tracker", "mailfleet-tracker", ["MAILFLEET_WEBHOOK_TIMEOUT_SECONDS": "1", "MAILFLEET_WEBHOOK_POLL_SECONDS": "0.05"]))"
            }
        }
        let stored = try await fleet.pool.query("SELECT id FROM events WHERE type = 'bounced' AND message_id = $1::uuid", [message]).map { try $0.int("id") }
        #expect(stored.count == total)

        // Every stored bounce arrives at least once, after the killed tracker's lease ends.
        func eventIDs(_ requests: [Receiver.Request]) -> [Int] {
            requests.compactMap { request in
                ((try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any])?["data"] as? [String: Any])?["event_id"] as? String
            }.compactMap { Int($0) }
        }
        #expect(try await fleet.eventually(seconds: 90) { Set(eventIDs(receiver.received())) == Set(stored) })
        let received = receiver.received()
        let ids = eventIDs(received)
        #expect(Set(ids) == Set(stored), "every stored bounce delivered")
        let duplicates = ids.count - Set(ids).count
        print("webhooks-out: \(total) bounces, \(ids.count) requests received, \(duplicates) duplicates after the SIGKILL")
        #expect(duplicates <= total / 2, "only deliveries of events stored before the kill can come twice")
        // A duplicate carries the same webhook-id as the first copy: receivers can drop it.
        let byEvent = Dictionary(grouping: received, by: { eventIDs([$0]).first ?? 0 })
        #expect(byEvent.values.allSatisfy { Set($0.map(\.id)).count == 1 })
        // Signed per Standard Webhooks, as an independent implementation checks.
        #expect(try Receiver.verify(received, secret: secret).allSatisfy { $0 })
    }
}

/// ops/testing/webhook_receiver.py on a free port, logging each request it receives.
final class Receiver: @unchecked Sendable {
    struct Request: Decodable {
        var t: Double
        var path: String
        var id: String
        var timestamp: String
        var signature: String
        var body: String
    }

    let port: Int
    let log: String
    private let process: Process
    private let input: Pipe

    private init(port: Int, log: String, process: Process, input: Pipe) {
        self.port = port
        self.log = log
        self.process = process
        self.input = input
    }

    static var scripts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ops/testing")
    }

    static func start(log: String, delayMs: Int) async throws -> Receiver {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scripts.appendingPathComponent("webhook_receiver.py").path, "0", log, "--delay-ms", String(delayMs)]
        let output = Pipe()
        let input = Pipe()
        process.standardOutput = output
        process.standardInput = input
        try process.run()
        let reader = output.fileHandleForReading
        let line: String = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                var data = Data()
                while !data.contains(UInt8(ascii: "\n")) {
                    let chunk = reader.availableData
                    if chunk.isEmpty { break }
                    data.append(chunk)
                }
                continuation.resume(returning: String(decoding: data, as: UTF8.self))
            }
        }
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 2, words[0] == "PORT", let port = Int(words[1]) else {
            process.terminate()
            throw FleetError("the webhook receiver did not start: \(line)")
        }
        return Receiver(port: port, log: log, process: process, input: input)
    }

    /// Everything received so far, in arrival order.
    func received() -> [Request] {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Request.self, from: Data($0.utf8)) }
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }

    /// Whether `standardwebhooks` (PyPI) verifies each request under `secret`.
    static func verify(_ requests: [Request], secret: String) throws -> [Bool] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", scripts.appendingPathComponent("verify_webhooks.py").path]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        let input: [String: Any] = [
            "secret": secret, "requests": requests.map { ["id": $0.id, "timestamp": $0.timestamp, "signature": $0.signature, "body": $0.body] },
        ]
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard let verdicts = try JSONSerialization.jsonObject(with: output) as? [Bool], verdicts.count == requests.count else {
            throw FleetError("the standardwebhooks verifier did not answer: \(String(decoding: output, as: UTF8.self))")
        }
        return verdicts
    }
}
