import CCurl
import MailfleetCore

/// An HTTP/1.1 and HTTP/2 client on libcurl's multi interface: any number of concurrent
/// requests share one thread of the client's own and a pool of keep-alive connections.
public final class HTTPClient: Sendable {
    private let loop: CurlMultiLoop

    /// Starts the client's thread (named `name`) with the given connection limits.
    public init(configuration: HTTPClientConfiguration = .init(), name: String = "http") {
        loop = CurlMultiLoop(configuration: configuration, name: name)
    }

    deinit {
        // The thread keeps only the loop alive, so a forgotten shutdown would leak it.
        loop.shutdown()
    }

    /// Performs one exchange; any status code is a response, only transport failures throw.
    /// With an egress policy, a refused URL or address throws `.refused`.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        try checkEgress(request.url)
        // libcurl sends header lines verbatim; CR or LF would let a value inject headers.
        for header in request.headers
        where header.name.isEmpty || (header.name + header.value).contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw HTTPClientError.transport(
                code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue),
                message: "invalid header name or value for \"\(header.name)\"")
        }
        let transfer = CurlTransfer(request: request)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if transfer.attach(continuation) { loop.submit(transfer) }
            }
        } onCancel: {
            if transfer.cancel() { loop.remove(transfer) }
        }
    }

    /// Performs one SMTP transaction on the client's thread and connection cache. A reply from
    /// the server (accepted or refused) is returned; only transport failures throw. Refused
    /// recipients do not stop the transaction while others are accepted: the message goes to
    /// the accepted ones and the reply lists every recipient's answer.
    public func send(mail: SMTPRequest) async throws -> SMTPReply {
        try checkEgress(mail.url)
        for value in [mail.mailFrom] + mail.recipients where value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "<" || $0 == ">" }) {
            throw HTTPClientError.transport(code: Int(CURLE_BAD_FUNCTION_ARGUMENT.rawValue), message: "invalid envelope address")
        }
        let carrier = HTTPRequest(method: "SMTP", url: mail.url, body: mail.message, timeout: mail.timeout)
        let transfer = CurlTransfer(request: carrier, mail: mail)
        let response = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                if transfer.attach(continuation) { loop.submit(transfer) }
            }
        } onCancel: {
            if transfer.cancel() { loop.remove(transfer) }
        }
        return SMTPReply(code: response.status, detail: response.bodyString, recipients: response.smtpRecipients)
    }

    /// Refuses the URL before anything happens when the client has an egress policy.
    private func checkEgress(_ url: String) throws(HTTPClientError) {
        guard let egress = loop.configuration.egress else { return }
        do {
            try egress.check(url: url)
        } catch {
            throw .refused(error.description)
        }
    }

    /// Fails pending and in-flight requests with `.shutDown` and stops the thread; returns at
    /// once, the thread finishes the cleanup. Later requests fail with `.shutDown`.
    public func shutdown() {
        loop.shutdown()
    }
}
