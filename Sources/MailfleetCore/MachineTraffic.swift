import Foundation

/// Tells opens and clicks that machines made (privacy proxies, security scanners, prefetchers)
/// from the ones people made, by user agent, client address and time since the send.
///
/// The lists are small and documented in docs/TRACKING.md; nothing is fetched at run time.
public struct MachineTraffic: Sendable {
    /// Why a request counts as a machine's; the value is stored as the event's `machine_reason`.
    public enum Reason: String, Sendable, CaseIterable {
        /// Apple Mail Privacy Protection fetched the content when the message arrived.
        case applePrivacyProxy = "apple_privacy_proxy"
        /// A mailbox provider's proxy that fetches images on delivery (Yahoo).
        case mailboxPrefetch = "mailbox_prefetch"
        /// A mail security gateway or link scanner (Barracuda, Mimecast, Proofpoint, Safe Links).
        case securityScanner = "security_scanner"
        /// An HTTP library, crawler or headless browser, not a mail client.
        case automatedClient = "automated_client"
        /// No user agent at all: every mail client and browser sends one.
        case noUserAgent = "no_user_agent"
        /// Within the window after the send: no person opens or clicks that fast.
        case soonAfterSend = "soon_after_send"
    }

    /// An open or click made within this many seconds of the send is a machine's.
    public var window: TimeInterval

    /// Creates a classifier; `window` is `MAILFLEET_MACHINE_OPEN_SECONDS` (2 s by default).
    public init(window: TimeInterval = 2) {
        self.window = window
    }

    /// Why this open or click is a machine's, or nil for a person's.
    ///
    /// `address` is the client's IPv4 address as text when it is known, `sentAt` the send time
    /// the token carries.
    public func reason(userAgent: String?, address: String? = nil, sentAt: Date?, at now: Date) -> Reason? {
        guard let agent = userAgent, agent.utf8.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }) else {
            return .noUserAgent
        }
        if let reason = Self.reason(userAgent: agent) { return reason }
        if let address, let ip = IPv4Range.address(address), Self.appleEgress.contains(where: { $0.contains(ip) }) {
            return .applePrivacyProxy
        }
        // A clock a little behind the worker's still counts as soon, hence the absolute value.
        if let sentAt, abs(now.timeIntervalSince(sentAt)) < window { return .soonAfterSend }
        return nil
    }

    /// The reason a user agent alone gives, or nil when it looks like a person's mail client.
    static func reason(userAgent agent: String) -> Reason? {
        // Mail Privacy Protection's proxy sends exactly this (as ESPs document it); no client sends it bare.
        if agent == "Mozilla/5.0" { return .applePrivacyProxy }
        // ASCII lower case and a byte search: Foundation's `contains` went through CFStringFind,
        // 19 % of the tracker's samples under load.
        let lower = agent.utf8.prefix(512).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        // Gmail's GoogleImageProxy is not here: Gmail fetches images when the reader opens the
        // message (then caches them), so its fetch is a person's open seen through a proxy.
        for (needle, reason) in markerBytes where contains(lower, needle) { return reason }
        return nil
    }

    /// Whether `needle` occurs in `haystack`.
    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return false }
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first, haystack[start..<start + needle.count].elementsEqual(needle) { return true }
            start += 1
        }
        return false
    }

    private static let markerBytes: [([UInt8], Reason)] = markers.map { (Array($0.0.utf8), $0.1) }

    /// Lower-case fragments of user agents and what they mean, in the order they are tried.
    static let markers: [(String, Reason)] = [
        ("yahoomailproxy", .mailboxPrefetch),
        ("barracuda", .securityScanner),
        ("mimecast", .securityScanner),
        ("proofpoint", .securityScanner),
        ("bingpreview", .securityScanner),
        ("microsoft office existence discovery", .securityScanner),
        ("microsoft office protocol discovery", .securityScanner),
        ("headlesschrome", .automatedClient),
        ("python-requests", .automatedClient),
        ("python-urllib", .automatedClient),
        ("go-http-client", .automatedClient),
        ("curl/", .automatedClient),
        ("wget/", .automatedClient),
        ("libwww-perl", .automatedClient),
        ("okhttp", .automatedClient),
        ("java/", .automatedClient),
        ("bot/", .automatedClient),
        ("crawler", .automatedClient),
        ("spider", .automatedClient),
    ]

    /// Apple's own address block (17.0.0.0/8, AS714). The much larger iCloud Private Relay
    /// egress list changes monthly and is not shipped: the agent above catches the proxy.
    static let appleEgress: [IPv4Range] = [IPv4Range(address: 17 << 24, prefix: 8)]
}
