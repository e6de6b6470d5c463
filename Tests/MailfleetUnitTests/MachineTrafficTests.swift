import Foundation
@testable import MailfleetCore
import Testing

/// The machine-open classifier over user agents seen in real opens and clicks.
@Suite struct MachineTrafficTests {
    let classifier = MachineTraffic(window: 2)
    let sent = Date(timeIntervalSince1970: 1_800_000_000)
    var later: Date { sent.addingTimeInterval(3600) }

    /// Real user agents and what each one is (nil: a person's mail client or browser).
    static let agents: [(String, MachineTraffic.Reason?)] = [
        // Apple Mail Privacy Protection: this agent and nothing else.
        ("Mozilla/5.0", .applePrivacyProxy),
        // Apple Mail with privacy protection off, on a Mac and an iPhone.
        ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)", nil),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148", nil),
        // Gmail fetches through its proxy when the reader opens the message: a person's open.
        ("Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)", nil),
        ("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html", .mailboxPrefetch),
        // Outlook for Windows loading images when the reader opens the message.
        ("Mozilla/4.0 (compatible; ms-office; MSOffice 16)", nil),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0", nil),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", nil),
        ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36", nil),
        // Microsoft Safe Links and Office's link checks.
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b", .securityScanner),
        ("Microsoft Office Existence Discovery", .securityScanner),
        ("Microsoft Office Protocol Discovery", .securityScanner),
        ("Barracuda Sentinel (EE)", .securityScanner),
        ("Mozilla/5.0 (compatible; Mimecast URL Protect)", .securityScanner),
        ("Proofpoint URL Defense", .securityScanner),
        ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/119.0.6045.105 Safari/537.36", .automatedClient),
        ("python-requests/2.31.0", .automatedClient),
        ("Go-http-client/1.1", .automatedClient),
        ("curl/7.88.1", .automatedClient),
        ("Wget/1.21.3", .automatedClient),
        ("Java/17.0.9", .automatedClient),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", .automatedClient),
    ]

    @Test(arguments: agents.indices) func userAgents(_ index: Int) {
        let (agent, expected) = Self.agents[index]
        #expect(classifier.reason(userAgent: agent, sentAt: sent, at: later) == expected, "\(agent)")
    }

    @Test func noUserAgentIsAMachine() {
        #expect(classifier.reason(userAgent: nil, sentAt: nil, at: later) == .noUserAgent)
        #expect(classifier.reason(userAgent: "  ", sentAt: nil, at: later) == .noUserAgent)
    }

    @Test func soonAfterTheSendIsAMachineWhateverTheAgent() {
        let person = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0"
        #expect(classifier.reason(userAgent: person, sentAt: sent, at: sent.addingTimeInterval(1.9)) == .soonAfterSend)
        #expect(classifier.reason(userAgent: person, sentAt: sent, at: sent.addingTimeInterval(2)) == nil)
        // The tracker's clock a little behind the worker's.
        #expect(classifier.reason(userAgent: person, sentAt: sent, at: sent.addingTimeInterval(-0.5)) == .soonAfterSend)
        // Tokens signed before they carried the send time: only the agent and address decide.
        #expect(classifier.reason(userAgent: person, sentAt: nil, at: sent) == nil)
        // The window is the setting's.
        #expect(MachineTraffic(window: 30).reason(userAgent: person, sentAt: sent, at: sent.addingTimeInterval(20)) == .soonAfterSend)
        // A scanner's own reason wins over the timing.
        #expect(classifier.reason(userAgent: "Barracuda Sentinel (EE)", sentAt: sent, at: sent) == .securityScanner)
    }

    @Test func applesAddressesAreItsPrivacyProxy() {
        let person = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"
        #expect(classifier.reason(userAgent: person, address: "17.58.101.7", sentAt: sent, at: later) == .applePrivacyProxy)
        #expect(classifier.reason(userAgent: person, address: "18.58.101.7", sentAt: sent, at: later) == nil)
        #expect(classifier.reason(userAgent: person, address: "2001:db8::1", sentAt: sent, at: later) == nil)
        #expect(classifier.reason(userAgent: person, address: "not an address", sentAt: sent, at: later) == nil)
    }

    @Test func ipv4Ranges() {
        #expect(IPv4Range.address("17.0.0.1") == 0x1100_0001)
        #expect(IPv4Range.address("255.255.255.255") == UInt32.max)
        for bad in ["1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "01234.1.1.1", "a.b.c.d", ""] {
            #expect(IPv4Range.address(bad) == nil, "\(bad)")
        }
        let range = IPv4Range(address: 0x0A00_0000, prefix: 8)
        #expect(range.contains(0x0AFF_FFFF))
        #expect(!range.contains(0x0B00_0000))
        #expect(IPv4Range(address: 0, prefix: 0).contains(0xFFFF_FFFF))
        #expect(IPv4Range(address: 0x0102_0304, prefix: 32).contains(0x0102_0304))
        #expect(!IPv4Range(address: 0x0102_0304, prefix: 32).contains(0x0102_0305))
    }
}
