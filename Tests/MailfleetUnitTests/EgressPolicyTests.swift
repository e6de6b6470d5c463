@testable import MailfleetCore
import Testing

/// The SSRF guard for tenant webhook URLs: every refused range at both edges, the addresses
/// just outside them, IPv6 forms that carry IPv4 addresses, the operator allowlist, and URLs.
@Suite struct EgressPolicyTests {
    let policy = EgressPolicy()

    /// (address, refused) for the first and last address of every refused range and the
    /// neighbours just outside it (where those are not themselves refused).
    static let classification: [(String, Bool)] = [
        // 0.0.0.0/8 "this network", 0.0.0.0 unspecified
        ("0.0.0.0", true), ("0.255.255.255", true), ("1.0.0.0", false),
        // 10/8 private
        ("9.255.255.255", false), ("10.0.0.0", true), ("10.255.255.255", true), ("11.0.0.0", false),
        // 100.64/10 carrier-grade NAT
        ("100.63.255.255", false), ("100.64.0.0", true), ("100.127.255.255", true), ("100.128.0.0", false),
        // 127/8 loopback
        ("126.255.255.255", false), ("127.0.0.0", true), ("127.0.0.1", true), ("127.255.255.255", true), ("128.0.0.0", false),
        // 169.254/16 link-local, with the metadata address
        ("169.253.255.255", false), ("169.254.0.0", true), ("169.254.169.254", true), ("169.254.255.255", true), ("169.255.0.0", false),
        // 172.16/12 private
        ("172.15.255.255", false), ("172.16.0.0", true), ("172.31.255.255", true), ("172.32.0.0", false),
        // 192.0.0/24 protocol assignments, 192.0.2/24 documentation
        ("191.255.255.255", false), ("192.0.0.0", true), ("192.0.0.255", true), ("192.0.1.0", false),
        ("192.0.1.255", false), ("192.0.2.0", true), ("192.0.2.255", true), ("192.0.3.0", false),
        // 192.88.99/24 6to4 relay
        ("192.88.98.255", false), ("192.88.99.0", true), ("192.88.99.255", true), ("192.88.100.0", false),
        // 192.168/16 private
        ("192.167.255.255", false), ("192.168.0.0", true), ("192.168.255.255", true), ("192.169.0.0", false),
        // 198.18/15 benchmarking
        ("198.17.255.255", false), ("198.18.0.0", true), ("198.19.255.255", true), ("198.20.0.0", false),
        // 198.51.100/24 and 203.0.113/24 documentation
        ("198.51.99.255", false), ("198.51.100.0", true), ("198.51.100.255", true), ("198.51.101.0", false),
        ("203.0.112.255", false), ("203.0.113.0", true), ("203.0.113.255", true), ("203.0.114.0", false),
        // 224/4 multicast, 240/4 reserved, the broadcast address
        ("223.255.255.255", false), ("224.0.0.0", true), ("239.255.255.255", true), ("240.0.0.0", true),
        ("255.255.255.254", true), ("255.255.255.255", true),
        // Public addresses.
        ("8.8.8.8", false), ("1.1.1.1", false), ("93.184.215.14", false),

        // IPv6 unspecified and loopback; IPv4-compatible forms judged by their IPv4 address.
        ("::", true), ("::1", true), ("::2", true), ("::127.0.0.1", true), ("::8.8.8.8", false),
        // IPv4-mapped ::ffff:0:0/96
        ("::ffff:0:0", true), ("::ffff:127.0.0.1", true), ("::ffff:7f00:1", true), ("::ffff:10.0.0.1", true),
        ("::ffff:169.254.169.254", true), ("::ffff:8.8.8.8", false), ("::ffff:255.255.255.255", true),
        // NAT64 64:ff9b::/96 by the embedded address; the local-use 64:ff9b:1::/48 always
        ("64:ff9b::", true), ("64:ff9b::a00:1", true), ("64:ff9b::7f00:1", true), ("64:ff9b::808:808", false),
        ("64:ff9b::ffff:ffff", true), ("64:ff9b:1::", true), ("64:ff9b:1:ffff:ffff:ffff:ffff:ffff", true),
        // 6to4 2002::/16 by the embedded address
        ("2002::", true), ("2002:a00:1::", true), ("2002:7f00:1::", true), ("2002:808:808::", false),
        ("2002:808:808:ffff:ffff:ffff:ffff:ffff", false), ("2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        // 100::/64 discard-only
        ("100::", true), ("100::ffff:ffff:ffff:ffff", true),
        // Outside global unicast 2000::/3
        ("1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("2000::", false), ("3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", false),
        ("4000::", true),
        // 2001::/32 Teredo
        ("2001::", true), ("2001:0:ffff:ffff:ffff:ffff:ffff:ffff", true),
        // 2001:2::/48 benchmarking
        ("2001:2::", true), ("2001:2:0:ffff:ffff:ffff:ffff:ffff", true), ("2001:2:1::", false),
        // 2001:db8::/32 and 3fff::/20 documentation
        ("2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", false), ("2001:db8::", true), ("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("2001:db9::", false), ("3fff::", true), ("3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("3fff:1000::", false),
        // fc00::/7 unique-local, fe80::/10 link-local, fec0::/10 site-local, ff00::/8 multicast, and the rest of f...
        ("fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("fc00::", true), ("fd00:ec2::254", true),
        ("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("fe00::", true), ("fe80::", true), ("fe80::1", true),
        ("febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true), ("fec0::", true), ("feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        ("ff00::", true), ("ff02::1", true), ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true),
        // Public IPv6.
        ("2001:4860:4860::8888", false), ("2606:4700:4700::1111", false), ("2a00:1450:4001:82b::200e", false),
    ]

    @Test func everyRangeIsRefusedAtBothEdges() throws {
        for (text, refused) in Self.classification {
            let address = try #require(IPAddress(text), "\(text)")
            #expect(policy.permits(address) == !refused, "\(text) should be \(refused ? "refused" : "permitted")")
            #expect((policy.refusal(for: address) != nil) == refused, "\(text)")
        }
    }

    @Test func refusalsNameTheAddressAndTheRange() throws {
        #expect(policy.refusal(for: IPAddress("127.0.0.1")!)?.description == "127.0.0.1 is a loopback address (127.0.0.0/8), which webhooks may not reach")
        #expect(policy.refusal(for: IPAddress("169.254.169.254")!)?.description.contains("the cloud metadata address") == true)
        #expect(policy.refusal(for: IPAddress("0:0:0:0:0:0:0:1")!)?.description == "::1 is a loopback address (::1/128), which webhooks may not reach")
        let mapped = try #require(policy.refusal(for: IPAddress("::ffff:7f00:1")!))
        #expect(mapped.description == "::ffff:127.0.0.1 is an IPv6 form of 127.0.0.1, a loopback address (127.0.0.0/8), which webhooks may not reach")
        #expect(policy.refusal(for: IPAddress("4000::1")!)?.description == "4000::1 is outside IPv6 global unicast (2000::/3), which webhooks may not reach")
        #expect(policy.refusal(for: IPAddress("8.8.8.8")!) == nil)
    }

    @Test func allowedNetworksOverrideTheRefusals() throws {
        let onPremises = EgressPolicy(allowedNetworks: [IPNetwork("10.0.0.0/8")!, IPNetwork("fd00::/8")!, IPNetwork("127.0.0.0/8")!])
        let cases: [(String, Bool)] = [
            ("10.1.2.3", true), ("10.255.255.255", true), ("11.0.0.0", true), ("9.255.255.255", true), ("192.168.1.1", false),
            ("fd12::1", true), ("fc00::1", false), ("::ffff:10.0.0.1", true), ("64:ff9b::a00:1", true), ("2002:a00:1::", true),
            ("127.0.0.1", true), ("::ffff:127.0.0.1", true), ("::1", false), ("169.254.169.254", false),
        ]
        for (text, permitted) in cases {
            #expect(onPremises.permits(IPAddress(text)!) == permitted, "\(text)")
        }
        // Even the metadata address can be allowed, but only by naming it.
        #expect(EgressPolicy(allowedNetworks: [IPNetwork("169.254.169.254")!]).permits(IPAddress("169.254.169.254")!))
        #expect(!EgressPolicy(allowedNetworks: [IPNetwork("169.254.169.254")!]).permits(IPAddress("169.254.169.253")!))
    }

    @Test(arguments: [
        "https://hooks.example.com/path?x=1", "HTTPS://Hooks.Example.COM/", "https://hooks.example.com:8443", "https://example.com.",
        "https://xn--exmple-cua.com/", "https://under_score.example.com/", "https://8.8.8.8/", "https://[2606:4700:4700::1111]:8443/x",
        "https://example.com#@127.0.0.1", "https://example.com?@127.0.0.1", "https://example.com/@127.0.0.1",
        "https://[::ffff:8.8.8.8]/", "https://134744072/",
    ])
    func acceptedURLs(url: String) throws {
        try policy.check(url: url)
    }

    @Test(arguments: [
        ("http://hooks.example.com/", "the URL scheme http is not allowed: use https"),
        ("ftp://hooks.example.com/", "the URL scheme ftp is not allowed: use https"),
        ("file:///etc/passwd", "the URL scheme file is not allowed: use https"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "the URL scheme gopher is not allowed: use https"),
        ("hooks.example.com/x", "the URL must start with https://"),
        ("https://user:secret@example.com/", "the URL must not contain a user name or password"),
        ("https://example.com@127.0.0.1/", "the URL must not contain a user name or password"),
        ("https://@example.com/", "the URL must not contain a user name or password"),
        ("https:///path", "the URL has no host"),
        ("https://:443/", "the URL has no host"),
        ("https://example.com:0/", "the URL is not usable: the port must be a number from 1 to 65535"),
        ("https://example.com:99999/", "the URL is not usable: the port must be a number from 1 to 65535"),
        ("https://example.com:/", "the URL is not usable: the port must be a number from 1 to 65535"),
        ("https://example.com:https/", "the URL is not usable: the port must be a number from 1 to 65535"),
        ("https://exa mple.com/", "the URL is not usable: it contains a space or control character"),
        ("https://example.com\\@127.0.0.1/", "the URL is not usable: it contains a backslash"),
        ("https://exämple.com/", "the URL is not usable: the host is not a valid name (internationalised names need their xn-- form)"),
        ("https://exa%6dple.com/", "the URL is not usable: the host is not a valid name (internationalised names need their xn-- form)"),
        ("https://a..b/", "the URL is not usable: the host is not a valid name (internationalised names need their xn-- form)"),
        ("https://1.2.3.4.5/", "the URL is not usable: the host is neither a name nor an IPv4 address"),
        ("https://example.0x10/", "the URL is not usable: the host is neither a name nor an IPv4 address"),
        ("https://[::1/", "the URL is not usable: an IPv6 address without its closing bracket"),
        ("https://[::1]x/", "the URL is not usable: text after the IPv6 address"),
        ("https://[10.0.0.1]/", "the URL is not usable: the bracketed host is not an IPv6 address"),
        ("https://[fe80::1%25eth0]/", "the URL is not usable: IPv6 zone identifiers are not allowed"),
        ("https://[fe80::1%eth0]:8443/", "the URL is not usable: IPv6 zone identifiers are not allowed"),
    ])
    func refusedURLs(url: String, message: String) throws {
        let refusal = try #require(throws: EgressRefusal.self) { try policy.check(url: url) }
        #expect(refusal.description == message)
        // The message never repeats the URL (its query may carry a token).
        #expect(!refusal.description.contains("secret"))
    }

    /// Literal addresses in every form libcurl would connect to, refused before any connection.
    @Test(arguments: [
        "https://127.0.0.1/", "https://127.0.0.1:8443/hook", "https://[::1]/", "https://[0:0:0:0:0:0:0:1]/", "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/", "https://[64:ff9b::a00:1]/", "https://[2002:a00:1::]/", "https://[fe80::1]/", "https://[fd00:ec2::254]/",
        "https://2130706433/", "https://0x7f.0.0.1/", "https://017700000001/", "https://127.1/", "https://0/", "https://0.0.0.0/",
        "https://169.254.169.254/latest/meta-data/", "https://10.0.0.1/", "https://192.168.1.1./", "https://0xa9fea9fe/", "https://[::]/",
    ])
    func literalRefusedAddresses(url: String) throws {
        let refusal = try #require(throws: EgressRefusal.self) { try policy.check(url: url) }
        guard case .address = refusal.reason else {
            Issue.record("\(url): expected an address refusal, got \(refusal)")
            return
        }
    }

    @Test func plainHTTPAndTheAllowlistAreTheOperatorsChoice() throws {
        let development = EgressPolicy(allowPlainHTTP: true, allowedNetworks: [IPNetwork("127.0.0.0/8")!])
        #expect(development.allowedSchemes == ["http", "https"])
        #expect(EgressPolicy().allowedSchemes == ["https"])
        try development.check(url: "http://127.0.0.1:8080/hook")
        try development.check(url: "http://2130706433:8080/hook")
        try development.check(url: "https://localhost/hook")
        #expect(throws: EgressRefusal.self) { try development.check(url: "http://[::1]:8080/hook") }
        #expect(throws: EgressRefusal.self) { try development.check(url: "http://10.0.0.1/hook") }
        let refusal = try #require(throws: EgressRefusal.self) { try development.check(url: "ftp://127.0.0.1/") }
        #expect(refusal.description == "the URL scheme ftp is not allowed: use http or https")
    }
}
