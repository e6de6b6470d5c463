/// The large mailbox providers whose receiving limits are shared by many domains, grouped
/// by a built-in domain table (not by MX lookup: a company domain hosted at Google or
/// Microsoft counts as no group). Each has a default cap per sending provider account.
public enum MailboxProvider: String, Sendable, Codable, CaseIterable, Hashable {
    /// gmail.com, googlemail.com.
    case google
    /// outlook.com, hotmail.*, live.*, msn.com.
    case microsoft
    /// yahoo.*, ymail.com, rocketmail.com, aol.com.
    case yahoo
    /// icloud.com, me.com, mac.com.
    case apple

    /// The default messages per second to this mailbox provider from one provider account.
    /// Conservative shapes in the spirit of KumoMTA's traffic shaping, whose documentation
    /// uses 100/s per source for gmail.com and outlook.com as examples
    /// (docs.kumomta.com/faq/rate_limits, make_egress_path/additional_message_rate_throttles);
    /// Yahoo and Apple take less volume per sender and defer sooner, so half that.
    public var defaultMessagesPerSecond: Int {
        switch self {
        case .google, .microsoft: return 100
        case .yahoo, .apple: return 50
        }
    }

    /// The group of a recipient domain (ASCII, any case), or nil when it belongs to none.
    public static func of(domain: String) -> MailboxProvider? {
        let domain = domain.lowercased()
        if let exact = exact[domain] { return exact }
        // Country variants: hotmail.co.uk, live.fr, yahoo.com.br, yahoo.co.jp.
        let labels = domain.split(separator: ".")
        guard labels.count == 2 || (labels.count == 3 && ["co", "com"].contains(labels[1])) else { return nil }
        return byFirstLabel[String(labels[0])]
    }

    private static let exact: [String: MailboxProvider] = [
        "gmail.com": .google, "googlemail.com": .google,
        "outlook.com": .microsoft, "msn.com": .microsoft,
        "ymail.com": .yahoo, "rocketmail.com": .yahoo, "aol.com": .yahoo,
        "icloud.com": .apple, "me.com": .apple, "mac.com": .apple,
    ]

    private static let byFirstLabel: [String: MailboxProvider] = [
        "hotmail": .microsoft, "live": .microsoft, "outlook": .microsoft, "yahoo": .yahoo,
    ]
}
