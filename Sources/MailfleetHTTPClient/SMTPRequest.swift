/// One SMTP transaction for `HTTPClient.send(mail:)`: envelope, message and connection settings.
/// It runs on the client's libcurl multi thread like any HTTP request, and idle SMTP
/// connections stay in the same connection cache, so consecutive messages to one server reuse
/// a connection (one EHLO/STARTTLS/AUTH per connection, not per message).
public struct SMTPRequest: Sendable {
    /// How the connection is protected. `smtps://` URLs always use implicit TLS.
    public enum Security: String, Sendable {
        /// Plain SMTP (only for local relays and tests).
        case none
        /// STARTTLS when the server offers it, plain otherwise.
        case startTLSIfOffered = "starttls-optional"
        /// STARTTLS or fail: the default.
        case startTLS = "starttls"
    }

    /// `smtp://host:port` or `smtps://host:port`.
    public var url: String
    /// The envelope sender (MAIL FROM), a bare address.
    public var mailFrom: String
    /// The envelope recipients (RCPT TO), bare addresses.
    public var recipients: [String]
    /// The complete RFC 5322 message with CRLF line ends.
    public var message: [UInt8]
    /// The AUTH user name, if the server needs one.
    public var username: String?
    /// The AUTH password. Never logged.
    public var password: String?
    /// Transport security for `smtp://` URLs.
    public var security: Security
    /// A PEM file of CA certificates to trust instead of the system's (a private relay, tests).
    public var caFile: String?
    /// The limit for the whole transaction, including waiting for a free connection.
    public var timeout: Duration

    /// Creates a transaction.
    public init(
        url: String, mailFrom: String, recipients: [String], message: [UInt8], username: String? = nil, password: String? = nil,
        security: Security = .startTLS, caFile: String? = nil, timeout: Duration = .seconds(60)
    ) {
        self.url = url
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.message = message
        self.username = username
        self.password = password
        self.security = security
        self.caFile = caFile
        self.timeout = timeout
    }
}

/// The server's final answer to an SMTP transaction that reached it.
public struct SMTPReply: Sendable, Equatable {
    /// The last reply code, e.g. 250 (accepted), 550 (recipient refused), 535 (AUTH refused).
    public var code: Int
    /// libcurl's description of a failure (empty on success).
    public var detail: String

    /// Creates a reply.
    public init(code: Int, detail: String = "") {
        self.code = code
        self.detail = detail
    }

    /// True when the server took the message (2xx).
    public var accepted: Bool { (200..<300).contains(code) }
}
