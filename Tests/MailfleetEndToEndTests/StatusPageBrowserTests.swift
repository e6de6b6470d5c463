import Foundation
import MailfleetHTTPClient
import Testing

/// End-to-end: the operator's `/status` page in headless Chromium (driven by
/// ops/testing/status_page.py) against a running fleet: it renders with no script error, shows
/// the workers alive and the queues, shows hostile names as text, and its numbers move as mail
/// flows. Runs whenever chromium is installed, and always in CI (`CI` set), where a missing
/// chromium fails it; elsewhere without chromium it is skipped.
@Suite(.serialized) struct StatusPageBrowserTests {
    static let token = "e2e-status-token"
    static var chromiumInstalled: Bool {
        ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].contains { FileManager.default.isExecutableFile(atPath: $0) }
    }
    static var mustRun: Bool { chromiumInstalled || ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty } == true }

    /// What the page showed after one load.
    struct Rendered {
        var values: [String: String]
        var updates: Int
        var error: String?
        var consoleErrors: [String]
        var cells: [String: [[String]]]
        var elements: [String: Int]

        /// The whole number an element shows ("1,234" → 1234).
        func number(_ id: String) -> Int? { values[id].flatMap { Int($0.replacingOccurrences(of: ",", with: "")) } }
        /// The decimal number an element shows.
        func decimal(_ id: String) -> Double? { values[id].flatMap { Double($0.replacingOccurrences(of: ",", with: "")) } }
    }

    static func load(_ fleet: Fleet, screenshot: String? = nil) throws -> Rendered {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let url = "http://ops:\(token)@127.0.0.1:\(fleet.apiPort)/status"
        var arguments = [root + "/ops/testing/status_page.py", url, "--wait-ms", "3000"]
        if let screenshot { arguments += ["--screenshot", screenshot] }
        let data = try runToCompletion("/usr/bin/env", ["python3"] + arguments, name: "status_page.py")
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return Rendered(
            values: object["values"] as? [String: String] ?? [:], updates: object["updates"] as? Int ?? 0, error: object["error"] as? String,
            consoleErrors: object["console_errors"] as? [String] ?? [], cells: object["cells"] as? [String: [[String]]] ?? [:],
            elements: object["elements"] as? [String: Int] ?? [:])
    }

    func batchBody(count: Int, offset: Int, rejected: Set<Int> = []) -> String {
        let items = (offset..<offset + count).map { i in
            let to = rejected.contains(i) ? "gone\(i)@example.com" : "user\(i)@example.com"
            return #"{"from":"Sender <sender@example.com>","to":["\#(to)"],"subject":"Hello \#(i)","text":"Hi there"}"#
        }
        return "{\"messages\":[\(items.joined(separator: ","))]}"
    }

    @Test(.enabled(if: StatusPageBrowserTests.mustRun, "chromium is not installed (and CI is not set)"))
    func thePageRendersAndItsNumbersMoveWhileMailFlows() async throws {
        try #require(Self.chromiumInstalled, "chromium must be installed where CI is set: ./ops/test installs it")
        let fleet = try await Fleet.start("status", workers: 2, provider: .postmark, environment: ["MAILFLEET_STATUS_TOKEN": Self.token])
        defer { fleet.stopNow() }
        // A tenant and account whose names are markup: the page must show them as text.
        let hostile = #"<img src=x onerror="document.title='owned'">"#
        let other = try fleet.cli(["tenants", "create", "--name", hostile]).trimmingCharacters(in: .whitespacesAndNewlines)
        try fleet.cli(["providers", "add", "--tenant", other, "--name", "<i>outbox</i>", "--kind", "outbox", "--priority", "10"])
        // The simulator answers in 30 ms and refuses a few recipients for good (one control
        // call: each replaces the simulator's faults).
        try await fleet.simControl(#"{"latency_ms":30,"postmark_reject":["gone3@example.com","gone57@example.com","gone140@example.com","gone1700@example.com","gone3700@example.com","gone5700@example.com","gone7700@example.com"]}"#)

        // The API samples the heartbeats once a second; both workers beat within 2 s of starting.
        let bothAlive = try await fleet.eventually(seconds: 20) { try Self.load(fleet).number("workers-alive") == 2 }
        try #require(bothAlive, "the page never showed both workers alive")
        let before = try Self.load(fleet)
        #expect(before.error == nil, "script error: \(before.error ?? "")")
        #expect(before.consoleErrors == [])
        #expect(before.updates >= 1, "the page applied no snapshot")
        #expect(before.values["state"]?.contains("live") == true)
        for id in ["q-ready-t", "q-ready-b", "q-leased", "q-delayed", "dead-letters", "workers-sent", "workers-failed"] {
            #expect(before.number(id) != nil, "\(id) shows \(before.values[id] ?? "nothing")")
        }
        #expect(before.number("workers-sent") == 0 && before.number("dead-letters") == 0)
        #expect(before.cells["workers"]?.count == 2)
        // Both tenants' accounts, the hostile names as plain text and no element made from them.
        let providers = before.cells["providers"] ?? []
        #expect(providers.contains { $0.first == hostile && $0.count > 1 && $0[1] == "<i>outbox</i>" })
        #expect(providers.contains { $0.count > 4 && $0[1] == "sim" && $0[4] == "closed" })
        #expect(before.elements["img"] == nil && before.elements["i"] == nil)

        // Mail flows in ten batches over a few seconds, three recipients refused for good.
        for round in 0..<10 {
            let answer = try await fleet.api("POST", "/v1/messages", json: batchBody(count: 20, offset: round * 20, rejected: [3, 57, 140]))
            #expect(answer.status == 202)
            try await Task.sleep(for: .milliseconds(400))
        }
        let delivered = try await fleet.eventually(seconds: 60) {
            let sent = try await fleet.count(status: "sent"), failed = try await fleet.count(status: "failed")
            return sent == 197 && failed == 3
        }
        try #require(delivered)
        // The workers' next heartbeats (every 2 s) carry the counts; the page shows them.
        let counted = try await fleet.eventually(seconds: 20) { try Self.load(fleet).number("workers-sent") == 197 }
        #expect(counted, "the page never showed 197 sent")

        let screenshot = fleet.stateDir + "/status.png"
        let after = try Self.load(fleet, screenshot: screenshot)
        #expect(after.error == nil && after.consoleErrors == [])
        #expect(after.number("workers-sent") == 197)
        #expect(after.number("workers-failed") == 3)
        #expect(after.number("dead-letters") == 3)
        #expect((after.decimal("rate-peak") ?? 0) > 0, "the sparkline's peak is \(after.values["rate-peak"] ?? "missing")")
        let failures = after.cells["failures"] ?? []
        #expect(failures.count == 3)
        #expect(failures.allSatisfy { $0.count == 4 && $0[1] == "status" && $0[3].contains("406") })
        // The account the mail went through now has a latency measured by the workers.
        #expect(after.cells["providers"]?.contains { $0.count > 5 && $0[1] == "sim" && $0[5].hasSuffix(" ms") } == true)
        #expect(FileManager.default.fileExists(atPath: screenshot))

        // MAILFLEET_STATUS_SCREENSHOT=FILE (docs/status.png): mail at a changing rate for a
        // minute, photographed near its end while it still flows.
        if let path = ProcessInfo.processInfo.environment["MAILFLEET_STATUS_SCREENSHOT"], !path.isEmpty {
            let flow = Task {
                for second in 0..<75 where !Task.isCancelled {
                    let count = 25 + Int(20 * sin(Double(second) / 5))
                    let offset = 1_000 + second * 100
                    _ = try await fleet.api("POST", "/v1/messages", json: batchBody(count: count, offset: offset, rejected: second % 20 == 7 ? [offset] : []))
                    try await Task.sleep(for: .seconds(1))
                }
            }
            try await Task.sleep(for: .seconds(55))
            _ = try Self.load(fleet, screenshot: path)
            flow.cancel()
            _ = await flow.result
        }
    }
}
