/// An IPv4 network in CIDR form.
struct IPv4Range: Sendable, Equatable {
    /// The network address.
    var address: UInt32
    /// The number of leading bits that name the network.
    var prefix: Int

    /// Whether the address lies in the network.
    func contains(_ ip: UInt32) -> Bool {
        let mask: UInt32 = prefix == 0 ? 0 : ~UInt32(0) << (32 - prefix)
        return ip & mask == address & mask
    }

    /// A dotted-quad address as a number, or nil when the text is not one.
    static func address(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        return value
    }
}
