import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetHTTPClient
import MailfleetRuntime
import ServiceLifecycle
import Testing

/// Hummingbird has an HTTPRequest too; in this file it is always the client's.
private typealias HTTPRequest = MailfleetHTTPClient.HTTPRequest

/// `HTTPClient` with an egress policy, against real listeners on 127.0.0.1 and ::1: every way
/// of naming loopback is refused (literal, by name at connect time, IPv6 forms, the old numeric
/// IPv4 forms), allowlisting makes the same requests succeed, and redirects come back as they
/// are. Each refused request is also made by a client without a policy, which reaches the
/// listener, so the refusal is the policy's and not a dead port.
@Suite("HTTPClient egress")
struct HTTPClientEgressTests {
    /// The loopback URLs a tenant might register, for listeners on 127.0.0.1 (`v4`) and ::1 (`v6`).
    static func loopbackURLs(v4: Int, v6: Int) -> [String] {
        [
            "http://127.0.0.1:\(v4)/hello", "http://localhost:\(v4)/hello", "http://[::1]:\(v6)/hello",
            "http://[0:0:0:0:0:0:0:1]:\(v6)/hello", "http://[::ffff:127.0.0.1]:\(v4)/hello", "http://[::ffff:7f00:1]:\(v4)/hello",
            "http://2130706433:\(v4)/hello", "http://0x7f.0.0.1:\(v4)/hello", "http://017700000001:\(v4)/hello",
            "http://127.1:\(v4)/hello",
        ]
    }

    @Test func loopbackInEveryFormIsRefusedWithoutReachingTheListener() async throws {
        try await withListeners { v4, v6 in
            let policy = EgressPolicy(allowPlainHTTP: true)
            let guarded = HTTPClient(configuration: HTTPClientConfiguration(egress: policy))
            defer { guarded.shutdown() }
            let plain = HTTPClient()
            defer { plain.shutdown() }

            for url in Self.loopbackURLs(v4: v4.port, v6: v6.port) {
                let before = v4.hits + v6.hits
                let error = await #expect(throws: HTTPClientError.self, "\(url)") {
                    try await guarded.execute(HTTPRequest(url: url, timeout: .seconds(10)))
                }
                guard case .refused(let reason)? = error else {
                    Issue.record("\(url): expected refused, got \(String(describing: error))")
                    continue
                }
                #expect(reason.contains("127.0.0.1") || reason.contains("::1"), "\(url): \(reason)")
                #expect(v4.hits + v6.hits == before, "\(url) reached a listener")
            }

            // Only libcurl's view of a name tells where it goes: "localhost" passes the URL check,
            // so its refusal above came from the check on the address connected to.
            try policy.check(url: "http://localhost:\(v4.port)/hello")

            // Without a policy every one of those URLs reaches a loopback listener: the forms
            // really do mean loopback to libcurl, and the listeners were up.
            let before = v4.hits + v6.hits
            let urls = Self.loopbackURLs(v4: v4.port, v6: v6.port)
            for url in urls {
                let response = try await plain.execute(HTTPRequest(url: url, timeout: .seconds(10)))
                #expect(response.status == 200, "\(url)")
                #expect(response.bodyString == "hello", "\(url)")
            }
            #expect(v4.hits + v6.hits == before + urls.count)
        }
    }

    @Test func allowlistedNetworksAreReached() async throws {
        try await withListeners { v4, v6 in
            let policy = EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!])
            let client = HTTPClient(configuration: HTTPClientConfiguration(egress: policy))
            defer { client.shutdown() }

            for url in Self.loopbackURLs(v4: v4.port, v6: v6.port) {
                let response = try await client.execute(HTTPRequest(url: url, timeout: .seconds(10)))
                #expect(response.status == 200, "\(url)")
                #expect(response.bodyString == "hello", "\(url)")
            }

            // Allowing 127.0.0.0/8 says nothing about ::1.
            let v4Only = HTTPClient(configuration: HTTPClientConfiguration(
                egress: EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])))
            defer { v4Only.shutdown() }
            #expect(try await v4Only.execute(HTTPRequest(url: "http://127.0.0.1:\(v4.port)/hello")).status == 200)
            let error = await #expect(throws: HTTPClientError.self) {
                try await v4Only.execute(HTTPRequest(url: "http://[::1]:\(v6.port)/hello"))
            }
            guard case .refused(let reason)? = error else {
                Issue.record("expected refused, got \(String(describing: error))")
                return
            }
            #expect(reason == "::1 is a loopback address (::1/128), which webhooks may not reach")
        }
    }

    @Test func aRedirectIsTheAnswerAndIsNotFollowed() async throws {
        try await withListeners { v4, v6 in
            let policy = EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!, IPNetwork("::1/128")!])
            let client = HTTPClient(configuration: HTTPClientConfiguration(egress: policy))
            defer { client.shutdown() }
            let target = "http://[::1]:\(v6.port)/hello"

            let response = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(v4.port)/redirect?to=\(target)"))

            #expect(response.status == 302)
            #expect(response.header("Location") == target)
            #expect(v4.hits == 1)
            #expect(v6.hits == 0, "the redirect was followed")
        }
    }

    @Test func httpsIsRequiredUnlessPlainHTTPIsAllowed() async throws {
        try await withListeners { v4, _ in
            let client = HTTPClient(configuration: HTTPClientConfiguration(
                egress: EgressPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])))
            defer { client.shutdown() }

            let error = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(v4.port)/hello"))
            }
            guard case .refused(let reason)? = error else {
                Issue.record("expected refused, got \(String(describing: error))")
                return
            }
            #expect(reason == "the URL scheme http is not allowed: use https")
            #expect(v4.hits == 0)

            // https is let through to the (allowlisted) address; this listener speaks plain
            // HTTP, so the TLS handshake fails: a connect failure, not a refusal.
            let https = await #expect(throws: HTTPClientError.self) {
                try await client.execute(HTTPRequest(url: "https://127.0.0.1:\(v4.port)/hello", timeout: .seconds(10)))
            }
            guard case .connectFailed? = https else {
                Issue.record("expected connectFailed, got \(String(describing: https))")
                return
            }
        }
    }

    @Test func otherSchemesAndSMTPAreRefused() async throws {
        let client = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowPlainHTTP: true)))
        defer { client.shutdown() }
        for url in ["file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO", "dict://127.0.0.1:11211/stat", "ftp://example.com/"] {
            let error = await #expect(throws: HTTPClientError.self) { try await client.execute(HTTPRequest(url: url)) }
            guard case .refused? = error else {
                Issue.record("\(url): expected refused, got \(String(describing: error))")
                continue
            }
        }
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.send(mail: SMTPRequest(url: "smtp://127.0.0.1:25", mailFrom: "a@example.com", recipients: ["b@example.com"], message: []))
        }
        guard case .refused? = error else {
            Issue.record("expected refused, got \(String(describing: error))")
            return
        }
    }

    @Test func aPermittedAddressWithNoListenerIsAConnectFailureNotARefusal() async throws {
        // A port that just had a listener and now has none.
        let port = Locked(0)
        try await withListeners { v4, _ in port.withLock { $0 = v4.port } }
        let closed = port.withLock { $0 }
        let client = HTTPClient(configuration: HTTPClientConfiguration(
            egress: EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])))
        defer { client.shutdown() }
        let error = await #expect(throws: HTTPClientError.self) {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(closed)/hello", timeout: .seconds(10)))
        }
        guard case .connectFailed? = error else {
            Issue.record("expected connectFailed, got \(String(describing: error))")
            return
        }
    }
    /// libcurl takes proxies from the process environment, and every suite of this test process
    /// runs in parallel, so the proxy variables are set only for a child process that runs
    /// `environmentProxyProbe` alone: there a client without a policy goes through the proxy
    /// (so the variables are in effect) and one with a policy goes straight to the target.
    @Test func aProxyFromTheEnvironmentIsNotUsed() async throws {
        try await withListener(host: "127.0.0.1") { target in
            try await withListener(host: "127.0.0.1", answersEverythingAs: "proxy") { proxy in
                var environment = ProcessInfo.processInfo.environment.filter { !$0.key.lowercased().hasSuffix("_proxy") }
                for name in ["http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"] {
                    environment[name] = "http://127.0.0.1:\(proxy.port)"
                }
                environment[Self.probeVariable] = "http://127.0.0.1:\(target.port)/hello"
                let output = FileManager.default.temporaryDirectory.appendingPathComponent("egress-proxy-probe-\(proxy.port).log")
                _ = FileManager.default.createFile(atPath: output.path, contents: nil)
                defer { try? FileManager.default.removeItem(at: output) }

                let process = Process()
                process.executableURL = URL(fileURLWithPath: try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                process.arguments = ["--testing-library", "swift-testing", "--filter", "environmentProxyProbe"]
                process.environment = environment
                let log = try FileHandle(forWritingTo: output)
                process.standardOutput = log
                process.standardError = log
                let status: Int32 = try await withCheckedThrowingContinuation { continuation in
                    process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
                    do { try process.run() } catch { continuation.resume(throwing: error) }
                }
                try log.close()

                let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
                #expect(status == 0, "the probe failed:\n\(text)")
                #expect(proxy.hits == 1, "the client without a policy did not use the proxy, so the probe proves nothing:\n\(text)")
                #expect(target.hits == 1, "the client with a policy did not reach the target directly:\n\(text)")
            }
        }
    }

    static let probeVariable = "MAILFLEET_TEST_EGRESS_PROXY_PROBE_URL"

    @Test(.enabled(if: ProcessInfo.processInfo.environment[probeVariable] != nil, "run by aProxyFromTheEnvironmentIsNotUsed in a process of its own"))
    func environmentProxyProbe() async throws {
        let url = try #require(ProcessInfo.processInfo.environment[Self.probeVariable])
        let plain = HTTPClient()
        defer { plain.shutdown() }
        #expect(try await plain.execute(HTTPRequest(url: url, timeout: .seconds(10))).bodyString == "proxy")

        let guarded = HTTPClient(configuration: HTTPClientConfiguration(
            egress: EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])))
        defer { guarded.shutdown() }
        #expect(try await guarded.execute(HTTPRequest(url: url, timeout: .seconds(10))).bodyString == "hello")
    }
}

// MARK: - Listeners

/// A Hummingbird listener that counts requests: GET /hello answers "hello", GET
/// /redirect?to=URL answers 302 to that URL.
private final class Listener: Sendable {
    private let count = Locked(0)
    let port: Int

    init(port: Int) { self.port = port }

    var hits: Int { count.withLock { $0 } }
    func hit() { count.withLock { $0 += 1 } }
}

/// Runs `body` with one listener on 127.0.0.1 and one on ::1, each on a free port.
private func withListeners(_ body: @Sendable (Listener, Listener) async throws -> Void) async throws {
    try await withListener(host: "127.0.0.1") { v4 in
        try await withListener(host: "::1") { v6 in try await body(v4, v6) }
    }
}

/// With `answersEverythingAs`, every request (whatever its target, so also a proxy's
/// absolute-form "GET http://host/path") is counted and answered with that text.
private func withListener(host: String, answersEverythingAs answer: String? = nil, _ body: @Sendable (Listener) async throws -> Void) async throws {
    let ports = AsyncStream.makeStream(of: Int.self)
    let counter = Locked<Listener?>(nil)
    let router = Router()
    if let answer { router.add(middleware: FixedAnswer(text: answer, counter: counter)) }
    router.get("/hello") { _, _ -> String in
        counter.withLock { $0?.hit() }
        return "hello"
    }
    router.get("/redirect") { request, _ -> Response in
        counter.withLock { $0?.hit() }
        let target = request.uri.queryParameters.get("to") ?? "/"
        return Response(status: .found, headers: [.location: target])
    }
    let app = Application(
        router: router, configuration: .init(address: .hostname(host, port: 0)),
        onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) },
        logger: Logger(label: "egress-listener"))
    let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "egress-listener")))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var iterator = ports.stream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            await group.triggerGracefulShutdown()
            Issue.record("the listener on \(host) reported no port")
            return
        }
        let listener = Listener(port: port)
        counter.withLock { $0 = listener }
        do {
            try await body(listener)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
    }
}

/// Counts and answers every request with one text, before any route is looked up.
private struct FixedAnswer: RouterMiddleware {
    typealias Context = BasicRequestContext
    let text: String
    let counter: Locked<Listener?>

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        counter.withLock { $0?.hit() }
        return text.response(from: request, context: context)
    }
}
