/// A provider account's send limits, read from its settings (`provider_accounts.config`,
/// `mailfleet providers add/update --config`): `messages_per_second`, `calls_per_second` and
/// `mailbox_rate.<group>` (a `MailboxProvider`: google, microsoft, yahoo, apple), each a whole
/// number of at least 1, or `unlimited`. A limit not set is unlimited, except the mailbox
/// providers' caps, which default to `MailboxProvider.defaultMessagesPerSecond`.
public struct AccountSendLimits: Sendable, Equatable {
    /// Messages per second through this account, fleet-wide; nil: unlimited.
    public var messagesPerSecond: Int?
    /// Provider calls per second to this account, fleet-wide; nil: unlimited.
    public var callsPerSecond: Int?
    /// Per mailbox provider: messages per second (0: unlimited), overriding the tenant's and the default.
    public var mailboxRates: [MailboxProvider: Int]

    /// The setting holding messages per second.
    public static let messagesKey = "messages_per_second"
    /// The setting holding calls per second.
    public static let callsKey = "calls_per_second"
    /// The prefix of the per-mailbox-provider settings.
    public static let mailboxPrefix = "mailbox_rate."

    /// Reads the limits from an account's settings; values that do not parse are left out
    /// (the CLI refuses them, see `problems(in:)`).
    public init(config: [String: String]) {
        messagesPerSecond = config[Self.messagesKey].flatMap(Self.rate) ?? nil
        callsPerSecond = config[Self.callsKey].flatMap(Self.rate) ?? nil
        var rates: [MailboxProvider: Int] = [:]
        for (key, value) in config where key.hasPrefix(Self.mailboxPrefix) {
            guard let group = MailboxProvider(rawValue: String(key.dropFirst(Self.mailboxPrefix.count))), let rate = Self.rate(value) else { continue }
            rates[group] = rate ?? 0
        }
        mailboxRates = rates
    }

    /// What is wrong with the limit settings in `config`, one sentence each (empty: nothing).
    public static func problems(in config: [String: String]) -> [String] {
        var problems: [String] = []
        for (key, value) in config.sorted(by: { $0.key < $1.key }) {
            let isLimit = key == messagesKey || key == callsKey || key.hasPrefix(mailboxPrefix)
            guard isLimit else { continue }
            if key.hasPrefix(mailboxPrefix), MailboxProvider(rawValue: String(key.dropFirst(mailboxPrefix.count))) == nil {
                problems.append("\(key): unknown mailbox provider; known: \(MailboxProvider.allCases.map(\.rawValue).joined(separator: ", "))")
            } else if !value.isEmpty, rate(value) == nil {
                problems.append("\(key)=\(value): give a whole number of at least 1 per second, or unlimited")
            }
        }
        return problems
    }

    /// A rate setting: `.some(n)` for n ≥ 1, `.some(nil)` for `unlimited`, nil when it does not parse.
    static func rate(_ text: String) -> Int?? {
        if text == "unlimited" { return .some(nil) }
        guard let value = Int(text), value >= 1 else { return nil }
        return .some(value)
    }
}

/// A tenant's send limits (`mailfleet tenants set-limits`, `GET /v1/limits`).
public struct TenantSendLimits: Sendable, Equatable {
    /// Messages per second for the whole tenant, fleet-wide; nil: unlimited.
    public var messagesPerSecond: Int?
    /// Per mailbox provider: messages per second from each of the tenant's accounts (0:
    /// unlimited), overriding the default; an account's own setting overrides this.
    public var mailboxRates: [MailboxProvider: Int]

    /// Creates limits; none by default.
    public init(messagesPerSecond: Int? = nil, mailboxRates: [MailboxProvider: Int] = [:]) {
        self.messagesPerSecond = messagesPerSecond
        self.mailboxRates = mailboxRates
    }

    /// The cap on messages per second to `group` through `account`: the account's setting,
    /// else the tenant's, else the default; nil when unlimited.
    public func mailboxRate(_ group: MailboxProvider, account: AccountSendLimits) -> Int? {
        let rate = account.mailboxRates[group] ?? mailboxRates[group] ?? group.defaultMessagesPerSecond
        return rate > 0 ? rate : nil
    }
}
