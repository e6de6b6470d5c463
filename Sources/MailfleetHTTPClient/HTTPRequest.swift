/// A request for `HTTPClient.execute`: everything needed to make one HTTP exchange.
public struct HTTPRequest: Sendable {
    /// The HTTP method, e.g. "GET" or "POST".
    public var method: String
    /// The absolute `http://` or `https://` URL.
    public var url: String
    /// Header fields to send; an empty value is sent as an empty header.
    public var headers: [HTTPHeader]
    /// The request body; sent whenever it is non-empty, and always (possibly empty) for POST.
    public var body: [UInt8]
    /// The limit for the whole exchange, including waiting for a free connection.
    public var timeout: Duration

    /// Creates a request; GET with no headers, no body and a 30 second timeout unless told.
    public init(
        method: String = "GET", url: String, headers: [HTTPHeader] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(30)
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}
