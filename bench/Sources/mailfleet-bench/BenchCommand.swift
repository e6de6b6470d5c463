import ArgumentParser
import Foundation
import MailfleetHTTPClient
import MailfleetPostgres
import NIOCore
import NIOPosix

/// `mailfleet-bench`: load generators for `bench/run`. Each subcommand prints one JSON object.
@main
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mailfleet-bench", abstract: "Load generators for the Mailfleet benchmarks.",
        subcommands: [Bulk.self, OpenLoop.self, QueueFetch.self])
}

/// Options naming the fleet under test.
struct Target: ParsableArguments {
    @Option(help: "API base URL.") var api = "http://127.0.0.1:18080"
    @Option(help: "API key.") var key: String
    @Option(help: "Simulator base URL.") var sim = "http://127.0.0.1:18082"
    @Option(help: "Postgres URL (to see `sent` recorded).") var databaseURL: String
    @Option(help: "The tenant id the key belongs to.") var tenant: String
}

/// Where the load goes. The defaults are the API's send endpoint; other values aim the generator
/// at something cheap (e.g. the simulator's `POST /_reset`) to measure the generator's own cost.
struct Endpoint: ParsableArguments {
    @Option(help: "Path the messages are POSTed to, on the API base URL.") var path = "/v1/messages"
    @Option(help: "The answer status that counts as accepted (202 answers must also carry the message id).") var expectStatus = 202

    /// Whether an answer counts as accepted; the API's 202 always names the message.
    func accepted(status: Int, id: String?) -> Bool {
        status == expectStatus && (status != 202 || id != nil)
    }
}

/// A message of about 2 KB, as in the comparisons the design cites.
///
/// `campaign`: a bulk campaign's messages share one body (what makes them batchable into one
/// provider call); what differs per recipient travels in metadata and the subject. Otherwise
/// (single transactional sends) the body names its recipient.
///
/// `number` is the message's number in decimal; `MessageTemplate` renders the same text without
/// building strings.
func messageJSON(number i: String, tag: String, campaign: Bool = false) -> String {
    let paragraph = campaign
        ? String(repeating: "Mailfleet benchmark campaign text shared by every recipient. ", count: 8)
        : String(repeating: "Mailfleet benchmark text for recipient number \(i). ", count: 8)
    return #"{"from":"Bench <bench@example.com>","to":["user\#(i)@example.com"],"subject":"Benchmark \#(tag) \#(i)","text":"\#(paragraph)","html":"<html><body><h1>Hello</h1><p>\#(paragraph)</p><p>\#(paragraph)</p></body></html>","metadata":{"run":"\#(tag)","recipient":"\#(i)"}}"#
}

/// Percentile of sorted values (nearest rank).
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = Int((p * Double(sorted.count)).rounded(.up)) - 1
    return sorted[max(0, min(sorted.count - 1, rank))]
}

func now() -> Double { Date().timeIntervalSince1970 }

/// CPU seconds (user + system, all threads) this process has used so far, from /proc/self/stat.
func processCPUSeconds() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
    else { return 0 }
    // Fields after the command name (which may hold spaces) start at field 3, `state`;
    // utime and stime are fields 14 and 15.
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    guard fields.count > 12, let utime = Double(fields[11]), let stime = Double(fields[12]) else { return 0 }
    return (utime + stime) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

func printJSON(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// Counts a tenant's messages recorded as sent (polled rarely: it reads the tenant's rows).
func sentCount(_ pool: PostgresPool, tenant: String) async throws -> Int {
    try await pool.query("SELECT count(*) AS n FROM messages WHERE tenant_id = $1::uuid AND status = 'sent'", [tenant]).first!.int("n")
}

/// Messages the simulator has accepted (a counter, so it needs no per-message records; a
/// duplicate counts again, which Postgres's `sent` count then corrects).
func providerCount(_ http: HTTPClient, sim: String) async throws -> Int {
    let response = try await http.execute(HTTPRequest(url: sim + "/_stats"))
    return ((try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["accepted_messages"] as? Int) ?? 0
}

/// Where `bulk` learns that messages were delivered.
enum DeliveryCount: String, ExpressibleByArgument {
    /// The simulator's counter while draining, then Postgres's `sent` to confirm.
    case provider
    /// Postgres's `sent` only: for a sink that counts nothing (nginx).
    case postgres
}

/// Provider calls the simulator has answered, over every provider kind.
func providerCalls(_ http: HTTPClient, sim: String) async throws -> Int {
    let response = try await http.execute(HTTPRequest(url: sim + "/_stats"))
    let calls = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["calls"] as? [String: Int]
    return calls?.values.reduce(0, +) ?? 0
}

/// Scenario a: many messages through the batch API; accepted/s, delivered/s, drain time.
struct Bulk: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Send messages through the batch API and wait until all are sent.")
    @OptionGroup var target: Target
    @OptionGroup var endpoint: Endpoint
    @Option(help: "Messages in all.") var messages = 1_000_000
    @Option(help: "Messages per request.") var perRequest = 1000
    @Option(help: "Concurrent clients.") var clients = 4
    @Option(help: "A tag for this run's messages.") var tag = "bulk"
    @Flag(help: "Only accept; do not wait for delivery.") var acceptOnly = false
    @Option(help: "Where delivery is counted: provider (the simulator's counters, then Postgres confirms) or postgres (`sent` rows only, for a provider stand-in that counts nothing).")
    var countFrom = DeliveryCount.provider

    func run() async throws {
        let http = HTTPClient(configuration: HTTPClientConfiguration(maxConnectionsPerHost: 64), name: "bench-http")
        let pool = PostgresPool(url: target.databaseURL, size: 1, name: "bench-pg")
        let requests = (messages + perRequest - 1) / perRequest
        let next = Counter()
        let message = MessageTemplate(tag: tag, campaign: true)
        let cpuStart = processCPUSeconds()
        let start = now()
        let failures = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var failed = 0
                    // One body buffer per client, refilled for each request.
                    var body: [UInt8] = []
                    while true {
                        let r = next.take()
                        guard r < requests else { return failed }
                        let lower = r * perRequest, upper = min(messages, lower + perRequest)
                        body.removeAll(keepingCapacity: true)
                        body.reserveCapacity(message.length(upper) * (upper - lower) + 16)
                        body.append(contentsOf: #"{"messages":["#.utf8)
                        for i in lower..<upper {
                            if i > lower { body.append(UInt8(ascii: ",")) }
                            message.append(i, to: &body)
                        }
                        body.append(contentsOf: "]}".utf8)
                        let response = try await http.execute(HTTPRequest(
                            method: "POST", url: target.api + endpoint.path,
                            headers: [HTTPHeader("Authorization", "Bearer \(target.key)"), HTTPHeader("Content-Type", "application/json")],
                            body: body, timeout: .seconds(120)))
                        if response.status != endpoint.expectStatus { failed += upper - lower }
                    }
                }
            }
            var total = 0
            for try await f in group { total += f }
            return total
        }
        let accepted = now()
        let cpu = processCPUSeconds() - cpuStart
        var result: [String: Any] = [
            "messages": messages, "failed": failures, "accept_s": accepted - start,
            "accepted_per_s": Double(messages - failures) / (accepted - start),
            // The generator's own CPU while it sends (it shares the machine with the fleet).
            "client_cpu_ms_per_message": cpu * 1000 / Double(max(1, messages)),
        ]
        if !acceptOnly {
            let expected = messages - failures
            if countFrom == .provider {
                // The simulator counts provider acceptance cheaply; Postgres confirms `sent` at the end.
                while try await providerCount(http, sim: target.sim) < expected {
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            // A count of the tenant's `sent` rows costs Postgres CPU that the run measures: polled
            // about twice in the time the rest should take at the rate so far, 50 ms apart at
            // the least and 1 s at the most.
            while true {
                let sent = try await sentCount(pool, tenant: target.tenant)
                if sent >= expected { break }
                let rate = Double(sent) / max(0.001, now() - start)
                let wait = rate > 0 ? Double(expected - sent) / rate / 2 : 1
                try await Task.sleep(for: .milliseconds(Int(min(1, max(0.05, wait)) * 1000)))
            }
            let done = now()
            result["delivered_per_s"] = Double(expected) / (done - start)
            result["drain_s"] = done - accepted
            result["total_s"] = done - start
            if countFrom == .provider {
                // The run starts on a reset simulator, so its calls are this run's.
                result["messages_per_call"] = Double(expected) / Double(max(1, try await providerCalls(http, sim: target.sim)))
            }
        }
        printJSON(result)
        http.shutdown()
        await pool.shutdown()
    }
}

/// Scenario b (and c's tenant B): single-message requests at a fixed arrival rate. Latency is
/// measured from each request's scheduled time, so a slow server cannot hide its queueing
/// (no coordinated omission).
///
/// The generator shares the machine with the fleet, so it is built to cost little CPU: one
/// event-loop thread, a fixed pool of keep-alive connections opened up front (each carrying
/// one request at a time), request heads encoded once and bodies written from a template
/// (`OpenLoopDriver`, `HTTPConnection`, `MessageTemplate`).
struct OpenLoop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "open-loop", abstract: "Single sends at a fixed rate; accept latency and time to provider.")
    @OptionGroup var target: Target
    @OptionGroup var endpoint: Endpoint
    @Option(help: "Requests per second.") var rate = 1000.0
    @Option(help: "Seconds of load.") var duration = 10.0
    @Option(help: "A tag for this run's messages.") var tag = "tx"
    @Option(help: "Seconds to wait for every message to reach the provider.") var settle = 60.0
    @Option(help: "Connections to the API, opened before the load starts; a request due while all are busy waits for one.") var connections = 256

    func validate() throws {
        guard rate > 0, duration >= 0 else { throw ValidationError("--rate must be positive and --duration not negative") }
        guard connections > 0 else { throw ValidationError("--connections must be positive") }
    }

    func run() async throws {
        let api = try HTTPEndpoint(baseURL: target.api)
        let sim = try HTTPEndpoint(baseURL: target.sim)
        let request = PostRequest(
            path: endpoint.path, host: api.authority,
            headers: [("Authorization", "Bearer \(target.key)"), ("Content-Type", "application/json"), ("User-Agent", "mailfleet-bench")],
            message: MessageTemplate(tag: tag, campaign: false))
        let count = Int(rate * duration)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let done = loop.makePromise(of: Void.self)
        let (rate, connections, endpoint) = (rate, connections, endpoint)
        let driver = try await loop.flatSubmit {
            let driver = OpenLoopDriver(
                loop: loop, endpoint: api, request: request, accepted: endpoint,
                count: count, rate: rate, timeout: .seconds(30), done: done)
            let bound = NIOLoopBound(driver, eventLoop: loop)
            return driver.open(connections).map { bound }
        }.get()
        // The generator's own CPU while it sends (it shares the machine with the fleet), from
        // just before the first request is due until the last answer.
        let cpuStart = processCPUSeconds()
        loop.execute { driver.value.start(after: .milliseconds(200)) }
        try await done.futureResult.get()
        let cpu = processCPUSeconds() - cpuStart
        let outcome = try await loop.submit { driver.value.result() }.get()
        let ids = outcome.ids

        // Wait until the provider has seen every accepted message, then read arrival times.
        let deadline = now() + settle
        var arrivals: [String: Double] = [:]
        while now() < deadline {
            let response = try await loop.flatSubmit {
                HTTPFetch.get("/_arrivals", from: sim, on: loop, timeout: .seconds(60))
            }.get()
            // 409: the simulator keeps only counters (bench/run turns arrivals on for this step).
            guard response.status == 200 else {
                throw ValidationError("the simulator's /_arrivals answered \(response.status): \(String(decoding: response.body, as: UTF8.self))")
            }
            arrivals = (try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Double]) ?? [:]
            if ids.allSatisfy({ arrivals[$0.key] != nil }) { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let toProvider = ids.compactMap { id, scheduled in arrivals[id].map { $0 - scheduled } }.sorted()
        let sorted = outcome.latencies.sorted()
        printJSON([
            "rate": rate, "requests": count, "errors": outcome.errors, "errors_by_kind": outcome.errorsByKind, "achieved_rps": Double(count) / (outcome.finished - outcome.start),
            "accept_p50_ms": percentile(sorted, 0.50) * 1000, "accept_p99_ms": percentile(sorted, 0.99) * 1000,
            "accept_p999_ms": percentile(sorted, 0.999) * 1000, "accept_max_ms": (sorted.last ?? 0) * 1000,
            "to_provider_p50_ms": percentile(toProvider, 0.50) * 1000, "to_provider_p99_ms": percentile(toProvider, 0.99) * 1000,
            "reached_provider": toProvider.count,
            "client_cpu_ms_per_request": cpu * 1000 / Double(max(1, count)),
        ])
        try await group.shutdownGracefully()
    }
}

/// Hands out request numbers to concurrent clients.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value - 1
    }
}
