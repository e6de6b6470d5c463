import Foundation
import MailfleetHTTPClient

/// A real SMTP server (aiosmtpd, `ops/testing/smtp_test_server.py`) requiring AUTH, with an
/// HTTP endpoint reporting what it received. It exits when this object's pipe closes.
final class SMTPTestServer: @unchecked Sendable {
    let process = Process()
    private let input = Pipe()
    let smtpPort: Int
    let statsPort: Int
    let user = "mailer"
    let password = "s3cret:pass"
    private let http = HTTPClient(name: "smtp-stats")
    var url: String { "smtp://127.0.0.1:\(smtpPort)" }

    init(reject: [String] = []) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/testing/smtp_test_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, "--user", user, "--password", password] + reject.flatMap { ["--reject", $0] }
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var ports: [String: Int] = [:]
        var buffer = ""
        while ports.count < 2 {
            let data = output.fileHandleForReading.availableData
            guard !data.isEmpty else { throw FleetError("the SMTP test server exited early (is aiosmtpd installed? run ./ops/test)") }
            buffer += String(decoding: data, as: UTF8.self)
            for line in buffer.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, let port = Int(parts[1]) { ports[String(parts[0])] = port }
            }
        }
        smtpPort = ports["SMTP"] ?? 0
        statsPort = ports["STATS"] ?? 0
    }

    /// The server's counters.
    func stats() async throws -> [String: Any] {
        let response = try await http.execute(HTTPRequest(url: "http://127.0.0.1:\(statsPort)/stats"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any]) ?? [:]
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        http.shutdown()
    }
}
