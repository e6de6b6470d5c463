/// Where tenant-supplied URLs (webhook endpoints) may make the fleet connect: https only (http
/// when the operator allows it for local development), and only to public addresses, so a
/// tenant cannot aim requests at the fleet's own network, its cloud metadata service or
/// loopback (SSRF). Networks the operator allows (on-premises receivers) are exempt.
///
/// `check(url:)` refuses early, with a clear message, what the URL alone gives away; the HTTP
/// client asks `permits(_:)` again for the address it actually connects to, which is what
/// stops names resolving to private addresses and DNS rebinding.
public struct EgressPolicy: Sendable, Equatable {
    /// Whether http:// URLs are allowed; for local development only.
    public var allowPlainHTTP: Bool
    /// Networks permitted even though they are private or otherwise refused.
    public var allowedNetworks: [IPNetwork]

    /// Creates a policy: https only and public addresses only unless told otherwise.
    public init(allowPlainHTTP: Bool = false, allowedNetworks: [IPNetwork] = []) {
        self.allowPlainHTTP = allowPlainHTTP
        self.allowedNetworks = allowedNetworks
    }

    /// The URL schemes allowed, lowercase: "https", and "http" first when plain HTTP is allowed.
    public var allowedSchemes: [String] { allowPlainHTTP ? ["http", "https"] : ["https"] }

    /// Refuses a URL whose scheme is not allowed, that carries user information, names no host,
    /// cannot be read unambiguously, or names a literal IP address (in any of the forms libcurl
    /// accepts, e.g. 2130706433 or 0x7f.1) that `permits(_:)` refuses.
    public func check(url: String) throws(EgressRefusal) {
        guard let separator = url.range(of: "://") else { throw EgressRefusal(.scheme("", allowed: allowedSchemes)) }
        let scheme = url[..<separator.lowerBound].lowercased()
        guard allowedSchemes.contains(scheme) else { throw EgressRefusal(.scheme(scheme, allowed: allowedSchemes)) }
        // Parsers disagree about these (WHATWG treats "\" as "/", libcurl does not), and a
        // disagreement is how a checked URL ends up somewhere else.
        if let bad = url.unicodeScalars.first(where: { $0.value <= 0x20 || $0.value == 0x7F || $0 == "\\" }) {
            throw EgressRefusal(.malformed(bad == "\\" ? "it contains a backslash" : "it contains a space or control character"))
        }
        let rest = url[separator.upperBound...]
        let authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex)]
        if authority.contains("@") { throw EgressRefusal(.userinfo) }

        let host: Substring
        let port: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw EgressRefusal(.malformed("an IPv6 address without its closing bracket")) }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw EgressRefusal(.malformed("text after the IPv6 address")) }
            port = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        } else {
            host = authority
            port = nil
        }
        if let port {
            guard (1...5).contains(port.count), port.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(port), (1...65_535).contains(number)
            else { throw EgressRefusal(.malformed("the port must be a number from 1 to 65535")) }
        }
        guard !host.isEmpty else { throw EgressRefusal(.missingHost) }

        if authority.hasPrefix("[") {
            if host.contains("%") { throw EgressRefusal(.malformed("IPv6 zone identifiers are not allowed")) }
            guard let address = IPAddress(String(host)), address.family == .v6 else {
                throw EgressRefusal(.malformed("the bracketed host is not an IPv6 address"))
            }
            try refuseUnlessPermitted(address)
            return
        }
        let name = String(host).lowercased()
        if IPAddress.looksNumeric(name) {
            // libcurl reads such a host as an IPv4 address in one of the old numeric forms.
            guard let address = IPAddress.numericHost(name) else { throw EgressRefusal(.malformed("the host is neither a name nor an IPv4 address")) }
            try refuseUnlessPermitted(address)
            return
        }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        let named = labels.enumerated().allSatisfy { index, label in
            // One empty label at the end is an absolute name ("example.com.").
            (label.isEmpty && index == labels.count - 1 && index > 0)
                || (!label.isEmpty && label.count <= 63 && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
        guard named, name.count <= 253 else {
            throw EgressRefusal(.malformed("the host is not a valid name (internationalised names need their xn-- form)"))
        }
    }

    /// Whether a connection to this address is allowed: true for public unicast addresses and
    /// for addresses inside an allowed network, false for everything in `refusal(for:)`.
    public func permits(_ address: IPAddress) -> Bool {
        refusal(for: address) == nil
    }

    /// Why a connection to this address is refused, or nil when it is permitted. Refused:
    /// loopback, unspecified, private, shared (CGNAT), link-local (with the cloud metadata
    /// address), multicast, broadcast, reserved, benchmarking and documentation ranges, and for
    /// IPv6 everything outside global unicast (2000::/3) plus Teredo and the documentation and
    /// benchmarking prefixes; IPv6 forms that carry an IPv4 address are judged by that address.
    public func refusal(for address: IPAddress) -> EgressRefusal? {
        if allowedNetworks.contains(where: { $0.contains(address) }) { return nil }
        if let inner = address.embeddedIPv4 {
            guard let refusal = self.refusal(for: inner), case .address(_, let range) = refusal.reason else { return nil }
            return EgressRefusal(.address(address, range: "an IPv6 form of \(inner), \(range)"))
        }
        if let match = Self.refusedRanges.first(where: { $0.network.contains(address) }) {
            return EgressRefusal(.address(address, range: "\(match.name) (\(match.network))"))
        }
        if address.family == .v6 && !Self.globalUnicast.contains(address) {
            return EgressRefusal(.address(address, range: "outside IPv6 global unicast (2000::/3)"))
        }
        return nil
    }

    private func refuseUnlessPermitted(_ address: IPAddress) throws(EgressRefusal) {
        if let refusal = refusal(for: address) { throw refusal }
    }

    private static let globalUnicast = IPNetwork("2000::/3")!

    /// Special-purpose ranges (IANA's IPv4 and IPv6 special-purpose registries) no webhook may
    /// reach; the first match names the refusal, so narrower ranges come before wider ones.
    static let refusedRanges: [(network: IPNetwork, name: String)] = [
        ("0.0.0.0/32", "the unspecified address"),
        ("0.0.0.0/8", "\"this network\""),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.169.254/32", "the cloud metadata address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol assignment"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "the 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/32", "a Teredo address"),
        ("2001:2::/48", "a benchmarking address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    ].map { (IPNetwork($0.0)!, $0.1) }
}
