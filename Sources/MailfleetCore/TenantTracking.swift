import Foundation

/// A tenant's tracking and unsubscribe settings: the host in its open, click and unsubscribe
/// links, the mailbox its List-Unsubscribe header also names, and whether transactional mail
/// carries the header too (bulk mail always does).
public struct TenantTracking: Sendable, Hashable {
    /// The tenant's own tracking host (`t.example.com`, optionally with a port), or nil for the
    /// fleet's configured tracker base URL.
    public var trackingHost: String?
    /// The address a `mailto:` List-Unsubscribe entry names, or nil for none.
    public var unsubscribeMailto: String?
    /// Whether transactional mail carries the List-Unsubscribe headers as well.
    public var unsubscribeTransactional: Bool

    /// Creates settings; the defaults are the fleet's tracker, no mailbox, bulk only.
    public init(trackingHost: String? = nil, unsubscribeMailto: String? = nil, unsubscribeTransactional: Bool = false) {
        self.trackingHost = trackingHost
        self.unsubscribeMailto = unsubscribeMailto
        self.unsubscribeTransactional = unsubscribeTransactional
    }

    /// The base of the tenant's tracking links: `https://` and its host, or `fallback` (the
    /// fleet's tracker base URL) when it has none.
    public func baseURL(fallback: String) -> String {
        trackingHost.map { "https://\($0)" } ?? fallback
    }

    /// Whether a message of `priority` carries the List-Unsubscribe headers.
    public func carriesListUnsubscribe(_ priority: Priority) -> Bool {
        priority == .bulk || unsubscribeTransactional
    }

    /// A tracking host as stored (lowercased), or nil when it is not a DNS name with an
    /// optional port: anything else (a scheme, a path, spaces) would make broken links.
    public static func normalisedHost(_ text: String) -> String? {
        let lower = text.lowercased()
        let parts = lower.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let name = parts[0]
        guard (1...253).contains(name.utf8.count), !name.hasPrefix("."), !name.hasSuffix("."), !name.contains("..") else { return nil }
        let labels = name.split(separator: ".")
        guard labels.allSatisfy({ label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 45 }
        }) else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port), parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        }
        return lower
    }
}
