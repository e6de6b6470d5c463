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
    /// The server's answer to each RCPT TO it was sent, in order. A transaction goes on past
    /// refused recipients (when the libcurl in use supports it), so a message accepted for
    /// some recipients lists the refused ones here.
    public var recipients: [SMTPRecipientReply]

    /// Creates a reply.
    public init(code: Int, detail: String = "", recipients: [SMTPRecipientReply] = []) {
        self.code = code
        self.detail = detail
        self.recipients = recipients
    }

    /// True when the server took the message (2xx).
    public var accepted: Bool { (200..<300).contains(code) }

    /// The recipients the server refused at RCPT TO.
    public var refused: [SMTPRecipientReply] { recipients.filter { !$0.accepted } }
}

/// The server's answer to one `RCPT TO`.
public struct SMTPRecipientReply: Sendable, Equatable {
    /// The address as sent in `RCPT TO:<...>`.
    public var address: String
    /// The reply code, e.g. 250, 550 or 451.
    public var code: Int
    /// The reply text after the code (lines of a multi-line reply joined by a space).
    public var text: String

    /// Creates a recipient reply.
    public init(address: String, code: Int, text: String) {
        self.address = address
        self.code = code
        self.text = text
    }

    /// True when the server accepted the recipient (2xx).
    public var accepted: Bool { (200..<300).contains(code) }
}

/// Reads the `RCPT TO` commands and the replies to them out of an SMTP dialogue as libcurl's
/// debug callback reports it: commands as `CURLINFO_HEADER_OUT`, server replies as
/// `CURLINFO_HEADER_IN`, in pieces that need not end at line ends. libcurl waits for each
/// reply before the next command, so the reply after a `RCPT TO` is that recipient's.
/// Nothing but `RCPT TO` lines and their replies is kept (AUTH lines carry credentials).
public struct SMTPDialogue: Sendable {
    private var outgoing: [UInt8] = []
    private var incoming: [UInt8] = []
    /// The address of the `RCPT TO` waiting for its reply.
    private var pending: String?
    /// Text of a multi-line reply so far.
    private var lines: [String] = []
    /// Every recipient's reply, in the order the commands were sent.
    public private(set) var recipients: [SMTPRecipientReply] = []

    /// An empty dialogue.
    public init() {}

    /// Bytes the client sent (commands).
    public mutating func sent(_ bytes: some Sequence<UInt8>) {
        outgoing.append(contentsOf: bytes)
        while let line = Self.takeLine(&outgoing) {
            let upper = line.uppercased()
            if upper.hasPrefix("RCPT TO:") {
                var address = String(line.dropFirst("RCPT TO:".count)).trimmingCharacters(in: .whitespaces)
                if address.hasPrefix("<"), let close = address.firstIndex(of: ">") {
                    address = String(address[address.index(after: address.startIndex)..<close])
                }
                pending = address
            } else {
                pending = nil
            }
            lines = []
        }
    }

    /// Bytes the server sent (replies).
    public mutating func received(_ bytes: some Sequence<UInt8>) {
        incoming.append(contentsOf: bytes)
        while let line = Self.takeLine(&incoming) {
            let scalars = Array(line.utf8)
            guard scalars.count >= 3, scalars[0..<3].allSatisfy({ $0 >= 48 && $0 <= 57 }), let code = Int(String(line.prefix(3))) else { continue }
            let text = String(line.dropFirst(4)).trimmingCharacters(in: .whitespaces)
            if !text.isEmpty { lines.append(text) }
            // "250-..." continues; "250 ..." or a bare "250" ends the reply.
            if scalars.count > 3 && scalars[3] == UInt8(ascii: "-") { continue }
            if let address = pending {
                recipients.append(SMTPRecipientReply(address: address, code: code, text: lines.joined(separator: " ")))
                pending = nil
            }
            lines = []
        }
    }

    /// Removes and returns the first complete line (without its CRLF or LF).
    private static func takeLine(_ buffer: inout [UInt8]) -> String? {
        guard let end = buffer.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        var line = Array(buffer[..<end])
        buffer.removeSubrange(...end)
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return String(decoding: line, as: UTF8.self)
    }
}
