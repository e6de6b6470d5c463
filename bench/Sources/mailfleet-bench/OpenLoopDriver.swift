import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// Host, port and Host header of an `http://` base URL.
struct HTTPEndpoint: Sendable {
    let host: String
    let port: Int
    /// The Host header's value.
    let authority: String

    init(baseURL: String) throws {
        guard let url = URL(string: baseURL), url.scheme == "http", let host = url.host else {
            throw ValidationError("only http:// base URLs are supported: \(baseURL)")
        }
        self.host = host
        port = url.port ?? 80
        authority = url.port.map { "\(host):\($0)" } ?? host
    }

    /// Connects on `loop` and hands the channel to `connection`. Call on `loop`.
    func connect(on loop: any EventLoop, _ connection: HTTPConnection) -> EventLoopFuture<Void> {
        ClientBootstrap(group: loop)
            .connectTimeout(.seconds(10))
            .connect(host: host, port: port)
            .assumeIsolated()
            .flatMapThrowing { channel in try channel.pipeline.syncOperations.addHandler(connection) }
            .nonisolated()
    }
}

/// Figures an open-loop run leaves behind.
struct OpenLoopOutcome: Sendable {
    /// Seconds from each request's scheduled time to its answer (or failure).
    var latencies: [Double] = []
    /// Accepted messages' ids and their scheduled times (seconds since 1970).
    var ids: [String: Double] = [:]
    var errors = 0
    /// Errors by kind: `waited_past_timeout` (no connection was free in time),
    /// `connection_lost` (closed with the request in flight, including the timeout sweep),
    /// `status_<code>`, or `no_id` (a 202 without a message id).
    var errorsByKind: [String: Int] = [:]
    /// When the last answer arrived (seconds since 1970).
    var finished = 0.0
    /// When the first request was scheduled (seconds since 1970).
    var start = 0.0
}

/// The open-loop generator: request `i` is due at `start + i / rate`, goes out on an idle
/// connection of a fixed pool at its time (or, if every connection is busy, as soon as one is
/// free), and its latency counts from its scheduled time whatever happens in between.
///
/// Everything runs on one event loop, so nothing here takes a lock. Requests become due in
/// order and wait in order, so the waiting queue is just the numbers between `sent` and `due`.
final class OpenLoopDriver: HTTPConnectionDelegate, NIOScheduledCallbackHandler {
    private let loop: any EventLoop
    private let endpoint: HTTPEndpoint
    private let request: PostRequest
    private let accepted: Endpoint
    private let count: Int
    private let rate: Double
    /// A request not answered this long after its scheduled time fails (its connection is closed).
    private let timeout: UInt64
    private let done: EventLoopPromise<Void>

    private var connections: [ObjectIdentifier: HTTPConnection] = [:]
    private var idle: [HTTPConnection] = []
    private var startNanos: UInt64 = 0
    /// Requests whose time has come / handed to a connection (or failed waiting) / finished.
    private var due = 0
    private var sent = 0
    private var finished = 0
    private var outcome = OpenLoopOutcome()
    private var stopped = false

    init(
        loop: any EventLoop, endpoint: HTTPEndpoint, request: PostRequest, accepted: Endpoint,
        count: Int, rate: Double, timeout: TimeAmount, done: EventLoopPromise<Void>
    ) {
        self.loop = loop
        self.endpoint = endpoint
        self.request = request
        self.accepted = accepted
        self.count = count
        self.rate = rate
        self.timeout = UInt64(timeout.nanoseconds)
        self.done = done
        outcome.latencies.reserveCapacity(count)
        outcome.ids.reserveCapacity(count)
    }

    /// Opens `size` connections; the future completes when all are open.
    func open(_ size: Int) -> EventLoopFuture<Void> {
        loop.preconditionInEventLoop()
        let opened = (0..<size).map { _ in
            let connection = HTTPConnection(delegate: self)
            return endpoint.connect(on: loop, connection).assumeIsolated().map {
                self.connections[ObjectIdentifier(connection)] = connection
                self.idle.append(connection)
            }.nonisolated()
        }
        return EventLoopFuture.andAllSucceed(opened, on: loop)
    }

    /// Starts the schedule `delay` from now; `done` succeeds when every request has finished.
    func start(after delay: TimeAmount) {
        loop.preconditionInEventLoop()
        if count == 0 {
            stop()
            return
        }
        // One monotonic clock for timing, and the wall clock once for the provider's arrival times.
        let nowNanos = NIODeadline.now().uptimeNanoseconds
        outcome.start = Date().timeIntervalSince1970 + Double(delay.nanoseconds) / 1e9
        startNanos = nowNanos + UInt64(delay.nanoseconds)
        wake(at: scheduled(0))
        sweep()
    }

    private func scheduled(_ i: Int) -> UInt64 {
        startNanos + UInt64((Double(i) * 1e9 / rate).rounded())
    }

    /// Nanoseconds since request `i`'s scheduled time.
    private func elapsed(_ i: Int, _ now: UInt64) -> UInt64 {
        let due = scheduled(i)
        return now > due ? now - due : 0
    }

    private func wake(at nanos: UInt64) {
        // A scheduled callback rather than a task: no promise or closure to allocate per wake-up.
        _ = try? loop.assumeIsolated().scheduleCallback(at: .uptimeNanoseconds(nanos), handler: self)
    }

    /// Each wake-up fires every request whose time has come, then sleeps until the next one's.
    private func tick() {
        let now = NIODeadline.now().uptimeNanoseconds
        while due < count && scheduled(due) <= now { due += 1 }
        dispatch(now)
        if due < count { wake(at: scheduled(due)) }
    }

    /// Hands due requests to idle connections; fails those that waited past the timeout.
    private func dispatch(_ now: UInt64) {
        while sent < due {
            let i = sent
            if elapsed(i, now) > timeout {
                sent += 1
                record(i, now: now, status: nil, body: nil, failure: "waited_past_timeout")
                continue
            }
            guard let connection = idle.popLast() else { return }
            guard connection.isOpen else { continue }  // closing: its replacement will come
            sent += 1
            connection.request = i
            connection.send { request.write(i, to: &$0) }
        }
    }

    /// Closes connections whose request is past the timeout, and fails requests waiting past it.
    private func sweep() {
        guard !stopped else { return }
        let now = NIODeadline.now().uptimeNanoseconds
        for connection in connections.values where connection.busy && elapsed(connection.request, now) > timeout {
            connection.close()
        }
        dispatch(now)
        loop.assumeIsolated().scheduleTask(in: .milliseconds(250)) { self.sweep() }
    }

    private func record(_ i: Int, now: UInt64, status: Int?, body: ByteBuffer?, failure: String = "connection_lost") {
        outcome.latencies.append(Double(elapsed(i, now)) / 1e9)
        let id = body.flatMap { $0.withUnsafeReadableBytes(messageID(in:)) }
        if let status, accepted.accepted(status: status, id: id) {
            if let id { outcome.ids[id] = outcome.start + Double(i) / rate }
        } else {
            outcome.errors += 1
            let kind = status.map { $0 == 202 ? "no_id" : "status_\($0)" } ?? failure
            outcome.errorsByKind[kind, default: 0] += 1
        }
        finished += 1
        if finished == count { stop() }
    }

    private func stop() {
        stopped = true
        outcome.finished = Date().timeIntervalSince1970
        for connection in connections.values { connection.close() }
        done.succeed()
    }

    /// The figures; call after `done` succeeded.
    func result() -> OpenLoopOutcome {
        outcome
    }

    // MARK: NIOScheduledCallbackHandler (the dispatcher's wake-ups)

    func handleScheduledCallback(eventLoop: some EventLoop) {
        tick()
    }

    // MARK: HTTPConnectionDelegate

    func connection(_ connection: HTTPConnection, finishedWith status: Int, body: ByteBuffer) {
        let now = NIODeadline.now().uptimeNanoseconds
        record(connection.request, now: now, status: status, body: body)
        guard !stopped else { return }
        if connection.isOpen { idle.append(connection) }
        dispatch(now)
    }

    func connectionClosed(_ connection: HTTPConnection, inFlight: Bool) {
        connections[ObjectIdentifier(connection)] = nil
        if let index = idle.firstIndex(where: { $0 === connection }) { idle.remove(at: index) }
        if inFlight, !stopped {
            record(connection.request, now: NIODeadline.now().uptimeNanoseconds, status: nil, body: nil)
        }
        guard !stopped else { return }
        reconnect(attempt: 0)
    }

    /// Replaces a closed connection, retrying while the server refuses (100 ms, doubling up to
    /// 1.6 s, so a pool of connections to a server that is down does not spin).
    private func reconnect(attempt: Int) {
        let connection = HTTPConnection(delegate: self)
        endpoint.connect(on: loop, connection).assumeIsolated().whenComplete { result in
            guard !self.stopped else {
                connection.close()
                return
            }
            switch result {
            case .success:
                self.connections[ObjectIdentifier(connection)] = connection
                self.idle.append(connection)
                self.dispatch(NIODeadline.now().uptimeNanoseconds)
            case .failure:
                self.loop.assumeIsolated().scheduleTask(in: .milliseconds(100 << min(attempt, 4))) {
                    self.reconnect(attempt: attempt + 1)
                }
            }
        }
    }
}

/// The value of `"id":"..."` in an answer body: the id is the first field of a 202 answer, found
/// without a JSON parser, which would cost the generator more CPU than the server spends.
func messageID(in body: UnsafeRawBufferPointer) -> String? {
    let key: StaticString = #""id":""#
    let keyLength = key.utf8CodeUnitCount
    let keyBytes = key.utf8Start
    guard body.count > keyLength else { return nil }
    outer: for start in 0...(body.count - keyLength) {
        for k in 0..<keyLength where body[start + k] != keyBytes[k] { continue outer }
        let valueStart = start + keyLength
        var end = valueStart
        while end < body.count, body[end] != UInt8(ascii: "\"") { end += 1 }
        guard end < body.count else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: body[valueStart..<end]), as: UTF8.self)
    }
    return nil
}

/// One GET on a fresh connection, for rare reads such as the simulator's arrivals.
final class HTTPFetch: HTTPConnectionDelegate {
    struct Response: Sendable {
        let status: Int
        let body: [UInt8]
    }

    private let promise: EventLoopPromise<Response>
    private var completed = false
    private var connection: HTTPConnection?
    private var timer: Scheduled<Void>?

    private init(promise: EventLoopPromise<Response>) {
        self.promise = promise
    }

    /// GETs `path` from `endpoint`; fails after `timeout`. Call on `loop`.
    static func get(_ path: String, from endpoint: HTTPEndpoint, on loop: any EventLoop, timeout: TimeAmount) -> EventLoopFuture<Response> {
        let fetch = HTTPFetch(promise: loop.makePromise(of: Response.self))
        let connection = HTTPConnection(delegate: fetch)
        // The fetch keeps its connection, and the connection's channel keeps it (until closed);
        // the connection only holds its delegate weakly, so the fetch holds itself until done.
        fetch.connection = connection
        fetch.timer = loop.assumeIsolated().scheduleTask(in: timeout) {
            fetch.complete(.failure(ChannelError.connectTimeout(timeout)))
        }
        let head = ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: \(endpoint.authority)\r\nUser-Agent: mailfleet-bench\r\n\r\n")
        endpoint.connect(on: loop, connection).assumeIsolated().whenComplete { result in
            switch result {
            case .success: connection.send { $0.writeImmutableBuffer(head) }
            case .failure(let error): fetch.complete(.failure(error))
            }
        }
        return fetch.promise.futureResult.assumeIsolated().always { _ in
            _ = fetch  // alive until the answer
        }.nonisolated()
    }

    private func complete(_ result: Result<Response, any Error>) {
        guard !completed else { return }
        completed = true
        timer?.cancel()
        promise.completeWith(result)
        connection?.close()
        connection = nil
    }

    func connection(_ connection: HTTPConnection, finishedWith status: Int, body: ByteBuffer) {
        complete(.success(Response(status: status, body: Array(body.readableBytesView))))
    }

    func connectionClosed(_ connection: HTTPConnection, inFlight: Bool) {
        complete(.failure(ChannelError.eof))
    }
}
