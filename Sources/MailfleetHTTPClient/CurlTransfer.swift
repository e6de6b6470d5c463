import CCurl
import Foundation
import MailfleetCore

/// One request on its way through the multi loop: the request, the easy handle it runs on,
/// the response being collected and the continuation waiting for it.
///
/// `@unchecked Sendable` because the state is split in two: `completion` is guarded by `lock`
/// (cancellation and the loop thread both finish a transfer), and everything else is touched
/// only by the loop thread, including from libcurl's callbacks which run inside
/// `curl_multi_perform` on that thread.
final class CurlTransfer: @unchecked Sendable {
    /// Where the awaiting caller stands.
    private enum Completion {
        case idle
        case waiting(CheckedContinuation<HTTPResponse, Error>)
        case cancelled
        case finished
    }

    let request: HTTPRequest
    /// Set for an SMTP transaction; `request` then only carries its URL, message and timeout.
    let mail: SMTPRequest?
    private let lock = NSLock()
    private var completion = Completion.idle

    /// The easy handle while the transfer is in the multi handle. Loop thread only.
    var easy: UnsafeMutableRawPointer?
    /// The request header list; libcurl reads it during the transfer, so it lives until then.
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var responseHeaders: [HTTPHeader] = []
    private var responseBody: [UInt8] = []
    /// How much of an SMTP message the read callback has handed to libcurl. Loop thread only.
    private var uploadOffset = 0
    /// The MAIL RCPT list; libcurl reads it during the transfer.
    private var recipientList: UnsafeMutablePointer<curl_slist>?
    /// The RCPT TO commands and replies of an SMTP transaction, from the debug callback.
    private var dialogue = SMTPDialogue()
    /// The client's egress policy, for the open-socket callback. Loop thread only.
    private var egress: EgressPolicy?
    /// Addresses the egress policy refused during this transfer, with the reason. Loop thread only.
    private var refusals: [String] = []
    /// libcurl writes the detailed failure text here; more useful than `curl_easy_strerror`.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    init(request: HTTPRequest, mail: SMTPRequest? = nil) {
        self.request = request
        self.mail = mail
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
    }

    deinit {
        // The loop resets the easy handle (which forgets this buffer) before dropping us.
        errorBuffer.deallocate()
        if let headerList { curl_slist_free_all(headerList) }
        if let recipientList { curl_slist_free_all(recipientList) }
    }

    // MARK: Completion (any thread)

    /// Stores the caller's continuation; resumes it with `CancellationError` and returns false
    /// if the task was cancelled before it got here.
    func attach(_ continuation: CheckedContinuation<HTTPResponse, Error>) -> Bool {
        lock.lock()
        switch completion {
        case .idle:
            completion = .waiting(continuation)
            lock.unlock()
            return true
        case .cancelled, .finished, .waiting:
            completion = .finished
            lock.unlock()
            continuation.resume(throwing: CancellationError())
            return false
        }
    }

    /// Fails the caller with `CancellationError` at once; returns true if the loop must still
    /// remove the transfer (it had been handed over).
    func cancel() -> Bool {
        lock.lock()
        switch completion {
        case .idle:
            completion = .cancelled
            lock.unlock()
            return false
        case .waiting(let continuation):
            completion = .finished
            lock.unlock()
            continuation.resume(throwing: CancellationError())
            return true
        case .cancelled, .finished:
            lock.unlock()
            return false
        }
    }

    /// Resumes the caller unless cancellation got there first.
    func finish(_ result: Result<HTTPResponse, HTTPClientError>) {
        lock.lock()
        guard case .waiting(let continuation) = completion else {
            lock.unlock()
            return
        }
        completion = .finished
        lock.unlock()
        continuation.resume(with: result.mapError { $0 as Error })
    }

    /// True once the caller has been answered, so the loop need not start the transfer.
    var isFinished: Bool {
        lock.lock()
        defer { lock.unlock() }
        if case .finished = completion { return true }
        return false
    }

    // MARK: Easy handle (loop thread)

    /// Sets every option this request needs on a fresh or reset easy handle.
    func configure(_ easy: UnsafeMutableRawPointer, _ configuration: HTTPClientConfiguration) -> CURLcode {
        var status = CURLE_OK
        func check(_ code: CURLcode) {
            if status == CURLE_OK && code != CURLE_OK { status = code }
        }
        let userdata = Unmanaged.passUnretained(self).toOpaque()
        if let mail { return configureMail(easy, configuration, mail, userdata) }

        check(mf_curl_easy_setopt_string(easy, CURLOPT_URL, request.url))
        // Anything else (file://, gopher://, ...) has no business in provider calls.
        check(mf_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"))
        // Without this, timeouts during name resolution use SIGALRM, which is unsafe with threads.
        check(mf_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout)))
        check(mf_curl_easy_setopt_long(
            easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)))
        check(mf_curl_easy_setopt_string(easy, CURLOPT_USERAGENT, configuration.userAgent))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        if CurlGlobal.http2Enabled {
            check(mf_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS)))
            // Wait for a connection that may turn out to multiplex rather than open another one.
            check(mf_curl_easy_setopt_long(easy, CURLOPT_PIPEWAIT, 1))
        } else {
            // Explicitly: since 7.62 libcurl's default is already HTTP/2 over TLS.
            check(mf_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_1_1)))
        }

        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        check(mf_curl_easy_setopt_callback(easy, CURLOPT_WRITEFUNCTION, { data, size, count, userdata in
            let length = size * count
            guard let data, let userdata, length > 0 else { return length }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            transfer.responseBody.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
            return length
        }))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, userdata))
        check(mf_curl_easy_setopt_callback(easy, CURLOPT_HEADERFUNCTION, { data, size, count, userdata in
            let length = size * count
            guard let data, let userdata, length > 0 else { return length }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            transfer.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: length))
            return length
        }))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, userdata))
        egress = configuration.egress
        refusals = []
        if let egress { configureEgress(easy, egress, userdata, check) }

        let sendsBody = request.method == "POST" || (!request.body.isEmpty && request.method != "HEAD")
        switch request.method {
        case "GET" where !sendsBody:
            check(mf_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1))
        case "HEAD":
            check(mf_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1))
        default:
            if request.method != "POST" {
                check(mf_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method))
            }
        }
        if sendsBody {
            // The size must be set before COPYPOSTFIELDS, or libcurl measures the body with
            // strlen and truncates it at the first zero byte.
            check(mf_curl_easy_setopt_off_t(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)))
            if request.body.isEmpty {
                // A POST without POSTFIELDS would make libcurl read the body from stdin.
                check(mf_curl_easy_setopt_string(easy, CURLOPT_COPYPOSTFIELDS, ""))
            } else {
                request.body.withUnsafeBytes { bytes in
                    check(mf_curl_easy_setopt_pointer(
                        easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress)))
                }
            }
        }

        headerList = makeHeaderList(sendsBody: sendsBody)
        check(mf_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList))
        return status
    }

    /// Confines a request to what the egress policy allows: its schemes only, no redirects, no
    /// proxy (one from the environment would connect on the request's behalf, unchecked), and
    /// every address checked when libcurl opens the socket for it. The check is on the address
    /// actually connected to, after resolution, so DNS rebinding gains nothing; a refused
    /// address makes libcurl try the next one or fail with CURLE_COULDNT_CONNECT.
    private func configureEgress(
        _ easy: UnsafeMutableRawPointer, _ egress: EgressPolicy, _ userdata: UnsafeMutableRawPointer, _ check: (CURLcode) -> Void
    ) {
        let schemes = egress.allowedSchemes.joined(separator: ",")
        check(mf_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, schemes))
        check(mf_curl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, schemes))
        // A 3xx is the endpoint's answer; following it would go to an unchecked URL.
        check(mf_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0))
        check(mf_curl_easy_setopt_string(easy, CURLOPT_PROXY, ""))
        check(mf_curl_easy_setopt_string(easy, CURLOPT_NOPROXY, "*"))
        check(mf_curl_easy_setopt_opensocket_callback(easy, { clientp, _, address in
            guard let clientp, let address else { return mf_curl_socket_bad }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(clientp).takeUnretainedValue()
            return transfer.openCheckedSocket(address)
        }))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_OPENSOCKETDATA, userdata))
    }

    /// Opens the socket libcurl wants if the egress policy permits the address, else records
    /// the refusal (so the failure maps to `.refused`) and opens nothing.
    private func openCheckedSocket(_ address: UnsafeMutablePointer<curl_sockaddr>) -> curl_socket_t {
        let ip = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer -> IPAddress? in
            let length = Int(mf_curl_sockaddr_ip(address, buffer.baseAddress))
            return IPAddress(bytes: buffer.prefix(length))
        }
        guard let ip else {
            refusals.append("an address that is neither IPv4 nor IPv6")
            return mf_curl_socket_bad
        }
        if let refusal = egress?.refusal(for: ip) {
            refusals.append(refusal.description)
            return mf_curl_socket_bad
        }
        return mf_curl_open_socket(address)
    }

    /// Sets the options of an SMTP transaction: envelope, AUTH, TLS, and the message through a
    /// read callback (libcurl converts nothing: the message must already use CRLF).
    private func configureMail(
        _ easy: UnsafeMutableRawPointer, _ configuration: HTTPClientConfiguration, _ mail: SMTPRequest, _ userdata: UnsafeMutableRawPointer
    ) -> CURLcode {
        var status = CURLE_OK
        func check(_ code: CURLcode) {
            if status == CURLE_OK && code != CURLE_OK { status = code }
        }
        check(mf_curl_easy_setopt_string(easy, CURLOPT_URL, mail.url))
        check(mf_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "smtp,smtps"))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(mail.timeout)))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)))
        check(mf_curl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer))
        switch mail.security {
        case .none: check(mf_curl_easy_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_NONE.rawValue)))
        case .startTLSIfOffered: check(mf_curl_easy_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue)))
        case .startTLS: check(mf_curl_easy_setopt_long(easy, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)))
        }
        if let caFile = mail.caFile { check(mf_curl_easy_setopt_string(easy, CURLOPT_CAINFO, caFile)) }
        if let username = mail.username { check(mf_curl_easy_setopt_string(easy, CURLOPT_USERNAME, username)) }
        if let password = mail.password { check(mf_curl_easy_setopt_string(easy, CURLOPT_PASSWORD, password)) }
        check(mf_curl_easy_setopt_string(easy, CURLOPT_MAIL_FROM, "<\(mail.mailFrom)>"))
        var list: UnsafeMutablePointer<curl_slist>?
        for recipient in mail.recipients {
            if let grown = curl_slist_append(list, "<\(recipient)>") { list = grown }
        }
        recipientList = list
        check(mf_curl_easy_setopt_slist(easy, CURLOPT_MAIL_RCPT, list))
        // Go on past refused recipients so the message reaches the accepted ones; libcurl still
        // fails the transaction when every recipient is refused. Without the option (a libcurl
        // before 7.69) the first refusal ends the transaction, as it always did.
        _ = mf_curl_easy_setopt_mail_rcpt_allowfails(easy, 1)
        // Which recipients were refused, and how, is only visible in the dialogue itself.
        dialogue = SMTPDialogue()
        check(mf_curl_easy_setopt_long(easy, CURLOPT_VERBOSE, 1))
        check(mf_curl_easy_setopt_debug_callback(easy, { _, type, data, size, userdata in
            guard let data, let userdata, size > 0, type == CURLINFO_HEADER_OUT || type == CURLINFO_HEADER_IN else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: data, count: size)
            if type == CURLINFO_HEADER_OUT { transfer.dialogue.sent(bytes) } else { transfer.dialogue.received(bytes) }
            return 0
        }))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_DEBUGDATA, userdata))
        uploadOffset = 0
        check(mf_curl_easy_setopt_long(easy, CURLOPT_UPLOAD, 1))
        check(mf_curl_easy_setopt_off_t(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(request.body.count)))
        check(mf_curl_easy_setopt_callback(easy, CURLOPT_READFUNCTION, { buffer, size, count, userdata in
            guard let buffer, let userdata else { return 0 }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
            return transfer.readUpload(into: buffer, capacity: size * count)
        }))
        check(mf_curl_easy_setopt_pointer(easy, CURLOPT_READDATA, userdata))
        return status
    }

    /// Copies the next piece of the SMTP message for libcurl; 0 at the end.
    private func readUpload(into buffer: UnsafeMutablePointer<CChar>, capacity: Int) -> Int {
        let remaining = request.body.count - uploadOffset
        let length = min(remaining, capacity)
        guard length > 0 else { return 0 }
        request.body.withUnsafeBytes { bytes in
            UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + uploadOffset, byteCount: length)
        }
        uploadOffset += length
        return length
    }

    /// Builds the header list, switching off headers libcurl would otherwise add on its own.
    private func makeHeaderList(sendsBody: Bool) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        func append(_ line: String) {
            if let grown = curl_slist_append(list, line) { list = grown }
        }
        var names = Set<String>()
        for header in request.headers {
            names.insert(header.name.lowercased())
            // "Name:" tells libcurl to remove a header; "Name;" is how an empty one is sent.
            append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // libcurl sends "Expect: 100-continue" for large bodies and then waits up to a second
        // for a 100 that many servers never send.
        if !names.contains("expect") { append("Expect:") }
        // libcurl labels POSTFIELDS bodies application/x-www-form-urlencoded, which would be a lie
        // for a JSON API; without a Content-Type from the caller, send none.
        if sendsBody && !names.contains("content-type") { append("Content-Type:") }
        return list
    }

    /// Records one header line; a status line starts a new block, so only the headers of the
    /// final response (after any 1xx) remain.
    private func receiveHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        var line = String(decoding: bytes, as: UTF8.self)
        while line.hasSuffix("\r\n") || line.hasSuffix("\n") || line.hasSuffix("\r") { line.removeLast() }
        if line.hasPrefix("HTTP/") {
            responseHeaders.removeAll()
            return
        }
        guard !line.isEmpty else { return }
        if line.first == " " || line.first == "\t" {
            // Obsolete line folding: the line continues the previous header's value.
            if !responseHeaders.isEmpty {
                responseHeaders[responseHeaders.count - 1].value +=
                    " " + line.trimmingCharacters(in: .whitespaces)
            }
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        responseHeaders.append(HTTPHeader(name, value))
    }

    /// Turns a finished transfer into the caller's result. Call before the handle is reset.
    func result(_ code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard let easy else { return .failure(.transport(code: Int(CURLE_FAILED_INIT.rawValue), message: "no handle")) }
        if mail != nil {
            // An SMTP reply travels as the status: the server's last code, and when it refused
            // something (a recipient, AUTH) libcurl's description of it as the body.
            var reply = 0
            _ = mf_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &reply)
            var response: HTTPResponse
            if code == CURLE_OK {
                response = HTTPResponse(status: reply == 0 ? 250 : reply)
            } else if reply >= 400 || code == CURLE_LOGIN_DENIED {
                let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
                response = HTTPResponse(status: reply >= 400 ? reply : 535, body: Array(detail.utf8))
            } else {
                return .failure(error(code))
            }
            response.smtpRecipients = dialogue.recipients
            return .success(response)
        }
        guard code == CURLE_OK else { return .failure(error(code)) }
        var status = 0
        _ = mf_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        var version = 0
        _ = mf_curl_easy_getinfo_long(easy, CURLINFO_HTTP_VERSION, &version)
        var micros: curl_off_t = 0
        _ = mf_curl_easy_getinfo_off_t(easy, CURLINFO_TOTAL_TIME_T, &micros)
        return .success(HTTPResponse(
            status: status, headers: responseHeaders, body: responseBody,
            httpVersion: Self.versionName(version), duration: .microseconds(micros)))
    }

    /// Maps a failure code to the error callers can act on: timeouts and connection failures
    /// get their own cases because they decide whether a retry may duplicate a send.
    func error(_ code: CURLcode) -> HTTPClientError {
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        // A refused address fails the connect; say why rather than "couldn't connect".
        if !refusals.isEmpty && code == CURLE_COULDNT_CONNECT {
            return .refused(refusals.joined(separator: "; "))
        }
        switch code {
        case CURLE_OPERATION_TIMEDOUT:
            return .timedOut(url: request.url)
        case CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_CONNECT,
            CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION:
            return .connectFailed(url: request.url, message: detail)
        default:
            return .transport(code: Int(code.rawValue), message: detail)
        }
    }

    /// Frees what libcurl no longer reads once the handle has left the multi handle.
    func detach() {
        easy = nil
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        if let recipientList { curl_slist_free_all(recipientList) }
        recipientList = nil
    }

    /// libcurl treats a timeout of 0 as "none", so anything positive but shorter than a
    /// millisecond, or not positive at all, becomes 1 ms.
    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 1 }
        let (ms, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let (total, overflowAgain) = ms.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
        if overflow || overflowAgain { return Int.max }
        return max(1, Int(clamping: total))
    }

    private static func versionName(_ version: Int) -> String {
        switch version {
        case Int(CURL_HTTP_VERSION_1_0): return "1.0"
        case Int(CURL_HTTP_VERSION_1_1): return "1.1"
        case Int(CURL_HTTP_VERSION_2_0): return "2"
        case Int(CURL_HTTP_VERSION_3): return "3"
        default: return "unknown"
        }
    }
}
