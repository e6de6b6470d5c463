import CCurl
import Foundation

/// The one thread that drives a libcurl multi handle for an `HTTPClient`.
///
/// Other threads only hand work over: they append to `incoming` or `removals` under `lock`
/// and call `curl_multi_wakeup`, the only multi function libcurl allows from another thread.
/// The thread waits in `curl_multi_poll`, so it sleeps when idle and wakes for socket activity,
/// libcurl's own timers (request timeouts) or new work.
///
/// `@unchecked Sendable` because the lock-guarded queue is the only state shared between
/// threads; `active` and `idleHandles` belong to the loop thread alone.
final class CurlMultiLoop: @unchecked Sendable {
    let configuration: HTTPClientConfiguration
    /// Nil when libcurl could not be initialised; then every request fails at once.
    private let multi: UnsafeMutableRawPointer?

    private let lock = NSLock()
    private var incoming: [CurlTransfer] = []  // guarded by lock
    private var removals: [CurlTransfer] = []  // guarded by lock
    private var wakeupPending = false  // guarded by lock; avoids one wakeup per request in bursts
    private var stopping = false  // guarded by lock

    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]  // loop thread only
    private var idleHandles: [UnsafeMutableRawPointer] = []  // loop thread only
    private let maxIdleHandles: Int

    init(configuration: HTTPClientConfiguration, name: String) {
        self.configuration = configuration
        maxIdleHandles = max(1, min(configuration.maxTotalConnections, 256))
        multi = CurlGlobal.initialized ? curl_multi_init() : nil
        guard let multi else { return }
        _ = mf_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, max(0, configuration.maxConnectionsPerHost))
        _ = mf_curl_multi_setopt_long(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max(0, configuration.maxTotalConnections))
        // Left unset, the keep-alive cache holds 4 idle connections per transfer still in the
        // multi handle, so after a burst it shrinks and closes connections worth keeping.
        _ = mf_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, max(1, configuration.maxTotalConnections))
        _ = mf_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)

        let thread = Thread { [self] in
            // On Linux a name set before start() does not reach the OS thread; set it from inside
            // so `top -H`, perf and gdb show it.
            Thread.current.name = name
            self.run()
        }
        thread.start()
    }

    // MARK: Any thread

    /// Hands a transfer to the loop, or fails it at once if the loop is gone.
    func submit(_ transfer: CurlTransfer) {
        guard let multi else {
            transfer.finish(.failure(.transport(
                code: Int(CURLE_FAILED_INIT.rawValue), message: "libcurl could not be initialised")))
            return
        }
        lock.lock()
        if stopping {
            lock.unlock()
            transfer.finish(.failure(.shutDown))
            return
        }
        incoming.append(transfer)
        wakeIfNeeded(multi)
        lock.unlock()
    }

    /// Asks the loop to take a cancelled transfer out of the multi handle.
    func remove(_ transfer: CurlTransfer) {
        guard let multi else { return }
        lock.lock()
        if !stopping {
            removals.append(transfer)
            wakeIfNeeded(multi)
        }
        lock.unlock()
    }

    /// Makes the loop fail everything with `.shutDown`, free libcurl's resources and exit.
    /// Returns at once (it may be called from async code, where waiting would block the pool).
    func shutdown() {
        guard let multi else { return }
        lock.lock()
        if !stopping {
            stopping = true
            _ = curl_multi_wakeup(multi)
        }
        lock.unlock()
    }

    /// Called with `lock` held: the loop cannot be cleaning up the multi handle meanwhile,
    /// because it reads `stopping` under the same lock before it does.
    private func wakeIfNeeded(_ multi: UnsafeMutableRawPointer) {
        if !wakeupPending {
            wakeupPending = true
            _ = curl_multi_wakeup(multi)
        }
    }

    // MARK: Loop thread

    private func run() {
        guard let multi else { return }
        var running: Int32 = 0
        var descriptors: Int32 = 0
        while true {
            lock.lock()
            let started = incoming
            let cancelled = removals
            let stop = stopping
            incoming.removeAll(keepingCapacity: true)
            removals.removeAll(keepingCapacity: true)
            wakeupPending = false
            lock.unlock()

            if stop {
                tearDown(multi, notStarted: started)
                return
            }
            for transfer in started { start(transfer, multi) }
            for transfer in cancelled { discard(transfer, multi) }

            _ = curl_multi_perform(multi, &running)
            collectFinished(multi)
            // The timeout is only an upper bound: libcurl shortens it to its next internal timer.
            if curl_multi_poll(multi, nil, 0, 1000, &descriptors) != CURLM_OK {
                // Should not happen; sleep rather than spin if it does.
                usleep(10_000)
            }
        }
    }

    private func start(_ transfer: CurlTransfer, _ multi: UnsafeMutableRawPointer) {
        // Cancelled between submit and now: the caller already has its CancellationError.
        if transfer.isFinished { return }
        guard let easy = idleHandles.popLast() ?? curl_easy_init() else {
            transfer.finish(.failure(.transport(code: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_easy_init failed")))
            return
        }
        transfer.easy = easy
        let code = transfer.configure(easy, configuration)
        if code != CURLE_OK {
            let error = transfer.error(code)
            release(easy, transfer)
            transfer.finish(.failure(error))
            return
        }
        let added = curl_multi_add_handle(multi, easy)
        if added != CURLM_OK {
            release(easy, transfer)
            transfer.finish(.failure(.transport(
                code: Int(added.rawValue), message: String(cString: curl_multi_strerror(added)))))
            return
        }
        active[easy] = transfer
    }

    private func discard(_ transfer: CurlTransfer, _ multi: UnsafeMutableRawPointer) {
        guard let easy = transfer.easy, active[easy] === transfer else { return }
        active[easy] = nil
        // Removing an unfinished transfer makes libcurl close its connection, not reuse it.
        _ = curl_multi_remove_handle(multi, easy)
        release(easy, transfer)
    }

    private func collectFinished(_ multi: UnsafeMutableRawPointer) {
        var queued: Int32 = 0
        while let message = curl_multi_info_read(multi, &queued) {
            var easy: UnsafeMutableRawPointer?
            var code = CURLE_OK
            guard mf_curl_msg_done(message, &easy, &code) != 0, let easy,
                let transfer = active.removeValue(forKey: easy)
            else { continue }
            // Read the results before the handle is reset and before `message` goes stale.
            let result = transfer.result(code)
            _ = curl_multi_remove_handle(multi, easy)
            release(easy, transfer)
            transfer.finish(result)
        }
    }

    /// Returns a handle to the pool. `curl_easy_reset` drops every option, including the
    /// callbacks' userdata and the error buffer owned by the transfer, so nothing dangles.
    private func release(_ easy: UnsafeMutableRawPointer, _ transfer: CurlTransfer) {
        curl_easy_reset(easy)
        transfer.detach()
        if idleHandles.count < maxIdleHandles {
            idleHandles.append(easy)
        } else {
            curl_easy_cleanup(easy)
        }
    }

    private func tearDown(_ multi: UnsafeMutableRawPointer, notStarted: [CurlTransfer]) {
        for (easy, transfer) in active {
            // Handles must leave the multi handle before either is cleaned up.
            _ = curl_multi_remove_handle(multi, easy)
            curl_easy_cleanup(easy)
            transfer.detach()
            transfer.finish(.failure(.shutDown))
        }
        active.removeAll()
        for transfer in notStarted { transfer.finish(.failure(.shutDown)) }
        for easy in idleHandles { curl_easy_cleanup(easy) }
        idleHandles.removeAll()
        curl_multi_cleanup(multi)
    }
}
