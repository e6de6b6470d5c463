@testable import MailfleetCore
import Testing

/// IP addresses and networks in every textual form a webhook URL or the operator's allowlist
/// can carry.
@Suite struct IPAddressTests {
    @Test func ipv6FormsOfOneAddressAreEqual() throws {
        let loopback = IPAddress(v6: 0, 1)
        for text in ["::1", "0:0:0:0:0:0:0:1", "0000:0000:0000:0000:0000:0000:0000:0001", "0::1", "::0:1", "0:0:0:0:0:0:0.0.0.1"] {
            #expect(IPAddress(text) == loopback, "\(text)")
        }
        let mapped = try #require(IPAddress("::ffff:127.0.0.1"))
        #expect(IPAddress("::ffff:7f00:1") == mapped)
        #expect(IPAddress("0:0:0:0:0:FFFF:7F00:0001") == mapped)
        #expect(IPAddress("::ffff:0:0") == IPAddress(v6: 0, 0xFFFF_0000_0000))
        #expect(IPAddress("::") == IPAddress(v6: 0, 0))
        #expect(IPAddress("1::") == IPAddress(v6: 0x0001_0000_0000_0000, 0))
        #expect(IPAddress("1:2:3:4:5:6:7::") == IPAddress(v6: 0x0001_0002_0003_0004, 0x0005_0006_0007_0000))
        #expect(IPAddress("1:2:3:4:5:6::8") == IPAddress(v6: 0x0001_0002_0003_0004, 0x0005_0006_0000_0008))
        #expect(IPAddress("64:ff9b::10.0.0.1") == IPAddress("64:ff9b::a00:1"))
    }

    @Test(arguments: [
        ":::", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", ":1::", "1:", ":", "",
        "::1%eth0", "fe80::1%25eth0", "[::1]", "::ffff:127.0.0.01", "::ffff:256.0.0.1", "g::", "::1.2.3.4:5",
        "1.2.3.4::", " ::1", "::１",
    ])
    func malformedIPv6IsRejected(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func dottedQuadsAreStrict() {
        #expect(IPAddress("127.0.0.1") == IPAddress(v4: 0x7F00_0001))
        #expect(IPAddress("0.0.0.0") == IPAddress(v4: 0))
        #expect(IPAddress("255.255.255.255") == IPAddress(v4: .max))
        // The old numeric forms are not addresses here; `numericHost` reads them where URLs need it.
        for text in ["127.1", "01.2.3.4", "0x7f.0.0.1", "256.1.1.1", "1.2.3", "1.2.3.4.5", "", " 1.2.3.4", "1.2.3.-4", "١.2.3.4"] {
            #expect(IPAddress(text) == nil, "\(text)")
        }
    }

    @Test func urlHostsInNumericFormsAreIPv4() {
        let loopback = IPAddress(v4: 0x7F00_0001)
        for text in ["2130706433", "0x7f.0.0.1", "017700000001", "127.1", "0x7f000001", "127.0.1", "0177.0.0.1", "127.0.0.1.", "0x7F.1"] {
            #expect(IPAddress.numericHost(text) == loopback, "\(text)")
            #expect(IPAddress.looksNumeric(text), "\(text)")
        }
        #expect(IPAddress.numericHost("0") == IPAddress(v4: 0))
        #expect(IPAddress.numericHost("1.65536") == IPAddress(v4: 0x0101_0000))
        for text in ["4294967296", "256.0.0.1", "1.2.3.4.5", "08.0.0.1", "0x100.0.0.1", "127.0.0.256", "1.2.65536", "example.0x10", "", "1..1"] {
            #expect(IPAddress.numericHost(text) == nil, "\(text)")
        }
        for name in ["example.com", "1.example", "0x7f.example", "localhost", "xn--exmple-cua.com"] {
            #expect(!IPAddress.looksNumeric(name), "\(name)")
        }
    }

    @Test func descriptionsAreCanonical() throws {
        let cases = [
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("0:0:0:0:0:0:0:0", "::"), ("::1", "::1"),
            ("::ffff:7f00:1", "::ffff:127.0.0.1"), ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"), ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4"), ("fe80::", "fe80::"),
            ("010.0.0.1", ""), ("10.0.0.1", "10.0.0.1"),
        ]
        for (text, canonical) in cases {
            if canonical.isEmpty {
                #expect(IPAddress(text) == nil)
                continue
            }
            let address = try #require(IPAddress(text), "\(text)")
            #expect(address.description == canonical)
            #expect(IPAddress(canonical) == address)
        }
    }

    @Test func bytesRoundTrip() throws {
        let v4 = try #require(IPAddress("192.0.2.33"))
        #expect(v4.bytes == [192, 0, 2, 33])
        #expect(IPAddress(bytes: v4.bytes) == v4)
        let v6 = try #require(IPAddress("2001:db8::ff00:42:8329"))
        #expect(v6.bytes == [0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0xFF, 0x00, 0x00, 0x42, 0x83, 0x29])
        #expect(IPAddress(bytes: v6.bytes) == v6)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(bytes: []) == nil)
    }

    @Test func embeddedIPv4() throws {
        let cases: [(String, String?)] = [
            ("::ffff:10.0.0.1", "10.0.0.1"), ("::10.0.0.1", "10.0.0.1"), ("64:ff9b::a00:1", "10.0.0.1"),
            ("2002:a00:1::", "10.0.0.1"), ("2002:a00:1:ffff::1", "10.0.0.1"), ("::1", nil), ("::", nil),
            ("2001:db8::a00:1", nil), ("64:ff9b:1::a00:1", nil), ("10.0.0.1", nil),
        ]
        for (text, inner) in cases {
            let address = try #require(IPAddress(text))
            #expect(address.embeddedIPv4 == inner.flatMap(IPAddress.init), "\(text)")
        }
    }

    @Test func networksParseAndContain() throws {
        let private10 = try #require(IPNetwork("10.0.0.0/8"))
        #expect(private10.contains(IPAddress("10.0.0.0")!))
        #expect(private10.contains(IPAddress("10.255.255.255")!))
        #expect(!private10.contains(IPAddress("11.0.0.0")!))
        #expect(!private10.contains(IPAddress("9.255.255.255")!))
        #expect(!private10.contains(IPAddress("::ffff:10.0.0.1")!), "families never mix")
        #expect(private10.description == "10.0.0.0/8")

        let uniqueLocal = try #require(IPNetwork("fd00::/8"))
        #expect(uniqueLocal.contains(IPAddress("fd00::")!))
        #expect(uniqueLocal.contains(IPAddress("fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")!))
        #expect(!uniqueLocal.contains(IPAddress("fc00::1")!))
        #expect(!uniqueLocal.contains(IPAddress("fe00::")!))

        // Host bits are cleared; a bare address is a network of one.
        #expect(IPNetwork("192.168.1.7/24")?.description == "192.168.1.0/24")
        #expect(IPNetwork("2001:db8::1/32")?.description == "2001:db8::/32")
        #expect(IPNetwork("203.0.113.9")?.description == "203.0.113.9/32")
        #expect(IPNetwork("2001:db8::1")?.description == "2001:db8::1/128")
        #expect(IPNetwork("0.0.0.0/0")?.contains(IPAddress("255.255.255.255")!) == true)
        #expect(IPNetwork("::/0")?.contains(IPAddress("ffff::")!) == true)
        // Prefixes crossing the 64-bit halves.
        let wide = try #require(IPNetwork("2001:db8:0:0:8000::/65"))
        #expect(wide.contains(IPAddress("2001:db8::8000:0:0:1")!))
        #expect(!wide.contains(IPAddress("2001:db8::7fff:0:0:1")!))

        for text in ["10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "banana", "", "/8", "10.0.0.0/ 8", "fe80::1%eth0/64"] {
            #expect(IPNetwork(text) == nil, "\(text)")
        }
    }
}
