/// An IPv4 or IPv6 network in CIDR form, e.g. 10.0.0.0/8 or fd00::/8.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The network address, host bits cleared.
    public let address: IPAddress
    /// The number of leading bits that name the network (0...32 or 0...128).
    public let prefixLength: Int

    /// A network from an address and a prefix length; the address's host bits are cleared.
    /// Nil when the length does not fit the family.
    public init?(address: IPAddress, prefixLength: Int) {
        let width = address.family == .v4 ? 32 : 128
        guard (0...width).contains(prefixLength) else { return nil }
        let (high, low) = Self.mask(address.family, prefixLength)
        self.address = address.family == .v4
            ? IPAddress(v4: UInt32(truncatingIfNeeded: address.low & low))
            : IPAddress(v6: address.high & high, address.low & low)
        self.prefixLength = prefixLength
    }

    /// Parses "address/length" ("10.0.0.0/8", "fd00::/8"); a bare address is a network of that
    /// one address (/32 or /128). Host bits after the prefix are cleared, so "192.168.1.7/24"
    /// is 192.168.1.0/24. Nil when the text is not a network.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        var length = address.family == .v4 ? 32 : 128
        if parts.count == 2 {
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                let given = Int(parts[1])
            else { return nil }
            length = given
        }
        self.init(address: address, prefixLength: length)
    }

    /// Whether the address lies in the network (never across families).
    public func contains(_ other: IPAddress) -> Bool {
        guard other.family == address.family else { return false }
        let (high, low) = Self.mask(address.family, prefixLength)
        return other.high & high == address.high && other.low & low == address.low
    }

    /// "address/length".
    public var description: String { "\(address)/\(prefixLength)" }

    /// The network mask as the (high, low) halves `IPAddress` stores.
    private static func mask(_ family: IPAddress.Family, _ length: Int) -> (UInt64, UInt64) {
        func ones(_ count: Int) -> UInt64 { count <= 0 ? 0 : count >= 64 ? ~0 : ~0 << (64 - count) }
        switch family {
        case .v4: return (0, length == 0 ? 0 : UInt64(UInt32.max << (32 - length)) & 0xFFFF_FFFF)
        case .v6: return (ones(length), ones(length - 64))
        }
    }
}
