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
    /// The PEM certificate the server presents (self-signed, for 127.0.0.1), when it uses TLS.
    let certificate: String?
    private let implicitTLS: Bool
    var url: String { "\(implicitTLS ? "smtps" : "smtp")://127.0.0.1:\(smtpPort)" }

    enum TLS { case none, startTLS, implicit }

    init(reject: [String] = [], tls: TLS = .none) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/testing/smtp_test_server.py").path
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        var arguments = ["python3", script, "--user", user, "--password", password] + reject.flatMap { ["--reject", $0] }
        implicitTLS = tls == .implicit
        if tls != .none {
            let folder = NSTemporaryDirectory() + "smtp-tls-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try Self.makeCertificate(in: folder)
            certificate = folder + "/cert.pem"
            arguments += ["--cert", folder + "/cert.pem", "--key", folder + "/key.pem"] + (tls == .implicit ? ["--implicit-tls"] : [])
        } else {
            certificate = nil
        }
        process.arguments = arguments
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

    /// A self-signed certificate for 127.0.0.1 made with the openssl command.
    static func makeCertificate(in folder: String) throws {
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem",
        ]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else { throw FleetError("openssl could not make a test certificate") }
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
