/// A complete HTTP response; any status code, 4xx and 5xx included, arrives as one of these.
public struct HTTPResponse: Sendable {
    /// The status code, e.g. 200 or 429.
    public var status: Int
    /// The header fields of the final response, in order, names as the server sent them.
    public var headers: [HTTPHeader]
    /// The response body.
    public var body: [UInt8]
    /// The protocol version the exchange used: "1.0", "1.1", "2" or "3".
    public var httpVersion: String
    /// The total time of the exchange as libcurl measured it.
    public var duration: Duration
    /// For an SMTP transaction: the server's reply to each RCPT TO (internal, for `send(mail:)`).
    var smtpRecipients: [SMTPRecipientReply] = []

    /// Creates a response; public so that code using the client can fake responses in tests.
    public init(
        status: Int, headers: [HTTPHeader] = [], body: [UInt8] = [], httpVersion: String = "1.1",
        duration: Duration = .zero
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.httpVersion = httpVersion
        self.duration = duration
    }

    /// The value of the first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        // Field names are ASCII tokens, so lowercasing both sides is a correct comparison.
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }

    /// The body decoded as UTF-8, with invalid bytes replaced.
    public var bodyString: String {
        String(decoding: body, as: UTF8.self)
    }
}
