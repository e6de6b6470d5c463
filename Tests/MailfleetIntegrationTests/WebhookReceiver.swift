import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// A tiny webhook receiver on 127.0.0.1 for the dispatcher tests: records every request
/// (path, the three Standard Webhooks headers, body) and answers each path as told: a status,
/// optionally after a pause.
final class WebhookReceiver: @unchecked Sendable {
    /// One request received.
    struct Received: Sendable {
        var path: String
        var id: String
        var timestamp: String
        var signature: String
        var body: Data
    }

    /// How a path answers.
    struct Answer: Sendable {
        var status: Int
        var pause: Duration = .zero
    }

    private let lock = NSLock()
    private var received: [Received] = []
    private var answers: [String: Answer] = [:]
    private var task: Task<Void, Error>?
    private(set) var port = 0

    /// Starts listening on an ephemeral port.
    static func start() async throws -> WebhookReceiver {
        let receiver = WebhookReceiver()
        let router = Router()
        router.post("{path}") { request, context -> Response in
            let path = "/" + (context.parameters.get("path") ?? "")
            var request = request
            let body = try await request.collectBody(upTo: 10 << 20)
            let answer = receiver.record(
                Received(
                    path: path, id: request.headers[.init("webhook-id")!] ?? "", timestamp: request.headers[.init("webhook-timestamp")!] ?? "",
                    signature: request.headers[.init("webhook-signature")!] ?? "", body: Data(buffer: body)))
            if answer.pause > .zero { try await Task.sleep(for: answer.pause) }
            return Response(status: .init(code: answer.status))
        }
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "webhook-receiver"),
            onServerRunning: { channel in portContinuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "webhook-receiver"))
        receiver.task = Task { try await app.runService() }
        for await port in ports {
            receiver.port = port
            break
        }
        return receiver
    }

    /// The URL of `path` (e.g. `/ok`).
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Makes `path` answer `answer` from now on (204 until told).
    func answer(_ path: String, _ answer: Answer) {
        lock.withLock { answers[path] = answer }
    }

    /// Everything received at `path`, in order.
    func requests(_ path: String) -> [Received] {
        lock.withLock { received.filter { $0.path == path } }
    }

    /// Waits until `condition` holds of what `path` received, checking every 20 ms, up to `limit`
    /// (a bound on a hang, not a speed assertion); answers what was received then.
    func wait(for path: String, upTo limit: Duration = .seconds(30), until condition: ([Received]) -> Bool) async throws -> [Received] {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            let got = requests(path)
            if condition(got) { return got }
            try await Task.sleep(for: .milliseconds(20))
        }
        return requests(path)
    }

    /// Stops the server.
    func stop() {
        task?.cancel()
    }

    private func record(_ request: Received) -> Answer {
        lock.withLock {
            received.append(request)
            return answers[request.path] ?? Answer(status: 204)
        }
    }
}

/// Checks received requests with the `standardwebhooks` package from PyPI (the reference
/// implementation's Python library), an implementation that is not ours.
enum IndependentVerifier {
    /// For each request, whether `standardwebhooks` verifies it under `secret` (timestamps
    /// checked against the library's own tolerance).
    static func verify(_ requests: [WebhookReceiver.Received], secret: String) throws -> [Bool] {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/testing/verify_webhooks.py")
        let input: [String: Any] = [
            "secret": secret,
            "requests": requests.map { ["id": $0.id, "timestamp": $0.timestamp, "signature": $0.signature, "body": String(decoding: $0.body, as: UTF8.self)] },
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let answer = try JSONSerialization.jsonObject(with: output) as? [Bool] else {
            throw VerifierFailed(output: String(decoding: output, as: UTF8.self))
        }
        return answer
    }

    struct VerifierFailed: Error, CustomStringConvertible {
        var output: String
        var description: String { "the standardwebhooks verifier did not run (is the PyPI package installed? ./ops/test installs it): \(output)" }
    }
}
