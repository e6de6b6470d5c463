import Foundation
import MailfleetHTTPClient
import Testing

/// Integration tests of `HTTPClient` against the Python test server in ops/testing.
/// Each test starts its own server so connection counts and timings do not interfere.
@Suite("HTTPClient")
struct HTTPClientTests {
    @Test func getReturnsStatusHeadersAndBody() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        let response = try await client.execute(
            HTTPRequest(url: server.url("/echo?x=1"), headers: [HTTPHeader("X-Mailfleet-Test", "abc")]))

        #expect(response.status == 200)
        #expect(response.httpVersion == "1.1")
        #expect(response.duration > .zero)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("X-BODY-LENGTH") == "0")
        #expect(response.headers.contains(HTTPHeader("Content-Type", "application/json")))
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "GET")
        #expect(echo.path == "/echo?x=1")
        #expect(echo.headers["X-Mailfleet-Test"] == "abc")
        #expect(echo.headers["User-Agent"] == "mailfleet/0.1")
        #expect(response.bodyString.contains("\"method\": \"GET\""))
    }

    @Test func postSendsOneMegabyteBodyIntact() async throws {
        #expect(sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }
        // Zero bytes included on purpose: a body measured with strlen would be cut short.
        let body = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }

        let response = try await client.execute(HTTPRequest(
            method: "POST", url: server.url("/echo"),
            headers: [HTTPHeader("Content-Type", "application/octet-stream")], body: body))

        #expect(response.status == 200)
        #expect(response.header("X-Body-Length") == "1048576")
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "POST")
        #expect(echo.bodyLength == body.count)
        #expect(echo.bodySHA256 == sha256Hex(body))
        #expect(echo.headers["Content-Type"] == "application/octet-stream")
        #expect(echo.headers["Expect"] == nil)

        // Without a Content-Type from the caller libcurl must not invent a form encoding.
        let plain = try await client.execute(HTTPRequest(method: "PUT", url: server.url("/echo"), body: [1, 2, 3]))
        let plainEcho = try JSONDecoder().decode(Echo.self, from: Data(plain.body))
        #expect(plainEcho.method == "PUT")
        #expect(plainEcho.bodyLength == 3)
        #expect(plainEcho.headers["Content-Type"] == nil)
    }

    @Test func getReceivesLargeBody() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        let response = try await client.execute(HTTPRequest(url: server.url("/big/3000000")))

        #expect(response.status == 200)
        #expect(response.body.count == 3_000_000)
        #expect(response.body.enumerated().allSatisfy { $0.element == UInt8(truncatingIfNeeded: $0.offset) })
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        for _ in 0..<20 {
            let response = try await client.execute(HTTPRequest(url: server.url("/echo")))
            #expect(response.status == 200)
        }

        #expect(try await connectionCount(client, server) == 1)
    }

    @Test func concurrentRequestsShareKeepAliveConnections() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let maxPerHost = 8
        let client = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerHost: maxPerHost))
        defer { client.shutdown() }
        let url = server.url("/delay/10")

        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<200 {
                group.addTask { try await client.execute(HTTPRequest(url: url)).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }

        #expect(statuses.count == 200)
        #expect(statuses.allSatisfy { $0 == 200 })
        let connections = try await connectionCount(client, server)
        #expect(connections >= 1)
        #expect(connections <= maxPerHost)
    }

    @Test func timeoutThrowsTimedOut() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: server.url("/delay/2000"), timeout: .milliseconds(200)))
        }

        guard case .timedOut(let url)? = error else {
            Issue.record("expected timedOut, got \(String(describing: error))")
            return
        }
        #expect(url == server.url("/delay/2000"))
    }

    @Test func errorStatusesAreResponses() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        for code in [429, 500, 401] {
            let response = try await client.execute(HTTPRequest(method: "POST", url: server.url("/status/\(code)")))
            #expect(response.status == code)
            #expect(response.header("Content-Type") == "application/json")
            #expect(response.bodyString == "{\"status\": \(code)}")
            if code == 429 {
                #expect(response.header("retry-after") == "3")
            } else {
                #expect(response.header("Retry-After") == nil)
            }
        }
    }

    @Test func connectionRefusedThrowsConnectFailed() async throws {
        // A port that just had a listener and now has none.
        let server = try await TestServer.start()
        await server.stopAndWait()
        let client = HTTPClient()
        defer { client.shutdown() }

        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: server.url("/echo")))
        }

        guard case .connectFailed(let url, let message)? = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
        #expect(url == server.url("/echo"))
        #expect(!message.isEmpty)
    }

    @Test func taskCancellationThrowsCancellationError() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()
        defer { client.shutdown() }

        // Cancelled while the request is in flight.
        let inFlight = Task { try await client.execute(HTTPRequest(url: server.url("/delay/5000"))) }
        try await Task.sleep(for: .milliseconds(200))
        inFlight.cancel()
        let inFlightResult = await inFlight.result
        #expect(throws: CancellationError.self) { try inFlightResult.get() }

        // Cancelled before the request was even made.
        let early = Task {
            while !Task.isCancelled { await Task.yield() }
            return try await client.execute(HTTPRequest(url: server.url("/delay/5000")))
        }
        early.cancel()
        let earlyResult = await early.result
        #expect(throws: CancellationError.self) { try earlyResult.get() }

        // The client is still usable afterwards.
        let response = try await client.execute(HTTPRequest(url: server.url("/echo")))
        #expect(response.status == 200)
    }

    @Test func shutdownFailsPendingRequests() async throws {
        let server = try await TestServer.start()
        defer { server.stop() }
        let client = HTTPClient()

        let pending = Task { try await client.execute(HTTPRequest(url: server.url("/delay/5000"))) }
        try await Task.sleep(for: .milliseconds(200))
        client.shutdown()
        let result = await pending.result

        let error = #expect(throws: HTTPClientError.self) { try result.get() }
        guard case .shutDown? = error else {
            Issue.record("expected shutDown, got \(String(describing: error))")
            return
        }
        let later = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: server.url("/echo")))
        }
        guard case .shutDown? = later else {
            Issue.record("expected shutDown after shutdown, got \(String(describing: later))")
            return
        }
        client.shutdown()  // a second call is harmless
    }
}

// MARK: - Helpers

/// The JSON the test server's /echo answers with.
private struct Echo: Decodable {
    var method: String
    var path: String
    var headers: [String: String]
    var bodyLength: Int
    var bodySHA256: String

    enum CodingKeys: String, CodingKey {
        case method, path, headers
        case bodyLength = "body_length"
        case bodySHA256 = "body_sha256"
    }
}

/// How many TCP connections the server has accepted, asked over the client's own pool.
private func connectionCount(_ client: HTTPClient, _ server: TestServer) async throws -> Int {
    struct Stats: Decodable { var connections: Int }
    let response = try await client.execute(HTTPRequest(url: server.url("/stats")))
    return try JSONDecoder().decode(Stats.self, from: Data(response.body)).connections
}

/// ops/testing/http_test_server.py running on a free port of 127.0.0.1.
///
/// `@unchecked Sendable`: `Process` is not annotated, and after `start` only `terminate` and
/// `isRunning` are called on it, which are safe from any thread.
private final class TestServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let input: Pipe

    private init(port: Int, process: Process, input: Pipe) {
        self.port = port
        self.process = process
        self.input = input
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    static func start() async throws -> TestServer {
        let script = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("ops/testing/http_test_server.py")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, "0", "--exit-on-stdin-eof"]
        let output = Pipe()
        process.standardOutput = output
        // Held open for the server's lifetime: if this test process dies, the server sees EOF.
        let input = Pipe()
        process.standardInput = input
        try process.run()

        // Reading the pipe blocks, so it happens on a thread of its own, not the test's.
        let reader = output.fileHandleForReading
        let firstLine: String = await withCheckedContinuation { continuation in
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
        let words = firstLine.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard words.count >= 2, words[0] == "PORT", let port = Int(words[1]) else {
            process.terminate()
            throw TestServerError.noPort(firstLine)
        }
        return TestServer(port: port, process: process, input: input)
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }

    func stopAndWait() async {
        stop()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(10)) }
    }
}

private enum TestServerError: Error {
    case noPort(String)
}

/// SHA-256 as hex, so the test can check the server received exactly the bytes sent.
private func sha256Hex(_ message: [UInt8]) -> String {
    let k: [UInt32] = [
        0x428a_2f98, 0x7137_4491, 0xb5c0_fbcf, 0xe9b5_dba5, 0x3956_c25b, 0x59f1_11f1, 0x923f_82a4, 0xab1c_5ed5,
        0xd807_aa98, 0x1283_5b01, 0x2431_85be, 0x550c_7dc3, 0x72be_5d74, 0x80de_b1fe, 0x9bdc_06a7, 0xc19b_f174,
        0xe49b_69c1, 0xefbe_4786, 0x0fc1_9dc6, 0x240c_a1cc, 0x2de9_2c6f, 0x4a74_84aa, 0x5cb0_a9dc, 0x76f9_88da,
        0x983e_5152, 0xa831_c66d, 0xb003_27c8, 0xbf59_7fc7, 0xc6e0_0bf3, 0xd5a7_9147, 0x06ca_6351, 0x1429_2967,
        0x27b7_0a85, 0x2e1b_2138, 0x4d2c_6dfc, 0x5338_0d13, 0x650a_7354, 0x766a_0abb, 0x81c2_c92e, 0x9272_2c85,
        0xa2bf_e8a1, 0xa81a_664b, 0xc24b_8b70, 0xc76c_51a3, 0xd192_e819, 0xd699_0624, 0xf40e_3585, 0x106a_a070,
        0x19a4_c116, 0x1e37_6c08, 0x2748_774c, 0x34b0_bcb5, 0x391c_0cb3, 0x4ed8_aa4a, 0x5b9c_ca4f, 0x682e_6ff3,
        0x748f_82ee, 0x78a5_636f, 0x84c8_7814, 0x8cc7_0208, 0x90be_fffa, 0xa450_6ceb, 0xbef9_a3f7, 0xc671_78f2,
    ]
    var h: [UInt32] = [
        0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19,
    ]
    func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { (x >> n) | (x << (32 - n)) }

    var data = message
    let bitLength = UInt64(message.count) * 8
    data.append(0x80)
    while data.count % 64 != 56 { data.append(0) }
    for shift in stride(from: 56, through: 0, by: -8) { data.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

    var w = [UInt32](repeating: 0, count: 64)
    for block in stride(from: 0, to: data.count, by: 64) {
        for i in 0..<16 {
            let j = block + 4 * i
            w[i] = UInt32(data[j]) << 24 | UInt32(data[j + 1]) << 16 | UInt32(data[j + 2]) << 8 | UInt32(data[j + 3])
        }
        for i in 16..<64 {
            let s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3)
            let s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10)
            w[i] = w[i - 16] &+ s0 &+ w[i - 7] &+ s1
        }
        var (a, b, c, d, e, f, g, hh) = (h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7])
        for i in 0..<64 {
            let t1 = hh &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[i] &+ w[i]
            let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
            (hh, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
        }
        for (i, value) in [a, b, c, d, e, f, g, hh].enumerated() { h[i] &+= value }
    }
    return h.map { String(format: "%08x", $0) }.joined()
}
