/// Why `HTTPClient.execute` produced no response.
public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    /// The request's timeout (or the connect timeout) ran out; the server may have acted on it.
    case timedOut(url: String)
    /// No connection could be made (name resolution, refused, TLS handshake); nothing was sent.
    case connectFailed(url: String, message: String)
    /// Any other libcurl failure, with its CURLcode and message.
    case transport(code: Int, message: String)
    /// The client was shut down before the request finished.
    case shutDown
    /// The client's egress policy refused the URL, or every address it resolved to; nothing
    /// was sent. The text names the address and why (e.g. "127.0.0.1 is a loopback address").
    case refused(String)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .timedOut(let url):
            return "HTTP request to \(Self.redacted(url)) timed out"
        case .connectFailed(let url, let message):
            return "could not connect for \(Self.redacted(url)): \(message)"
        case .transport(let code, let message):
            return "HTTP transport error \(code): \(message)"
        case .shutDown:
            return "HTTP client has been shut down"
        case .refused(let reason):
            return "request refused by the egress policy: \(reason)"
        }
    }

    /// Drops the query and fragment, because provider URLs sometimes carry API keys there and
    /// descriptions end up in logs.
    private static func redacted(_ url: String) -> String {
        guard let cut = url.firstIndex(where: { $0 == "?" || $0 == "#" }) else { return url }
        return String(url[..<cut])
    }
}
