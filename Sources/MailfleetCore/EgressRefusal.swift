/// Why an outgoing request (a tenant's webhook URL, or the address a connection would go to)
/// is refused by an `EgressPolicy`.
public struct EgressRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Sendable, Equatable {
        /// The URL's scheme is not allowed (only https, or http where the operator allows it).
        case scheme(String, allowed: [String])
        /// The URL carries user information ("user:password@"), which would be sent as credentials.
        case userinfo
        /// The URL names no host.
        case missingHost
        /// The URL cannot be read safely; the text says what is wrong.
        case malformed(String)
        /// The address lies in a range no webhook may reach; the text names the range.
        case address(IPAddress, range: String)
    }

    /// What is wrong.
    public let reason: Reason

    /// Creates a refusal.
    public init(_ reason: Reason) {
        self.reason = reason
    }

    /// One sentence for API errors and logs; never the URL itself, whose query may hold a token.
    public var description: String {
        switch reason {
        case .scheme(let scheme, let allowed):
            let names = allowed.joined(separator: " or ")
            return scheme.isEmpty ? "the URL must start with \(names)://" : "the URL scheme \(scheme) is not allowed: use \(names)"
        case .userinfo:
            return "the URL must not contain a user name or password"
        case .missingHost:
            return "the URL has no host"
        case .malformed(let problem):
            return "the URL is not usable: \(problem)"
        case .address(let address, let range):
            return "\(address) is \(range), which webhooks may not reach"
        }
    }
}
