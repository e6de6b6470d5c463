/// A tenant's send limits as the API (`GET /v1/limits`) and the CLI show them: its messages
/// per second, the cap in force per mailbox provider (its own or the default; a provider
/// account's `mailbox_rate.<group>` setting overrides both for that account), and the warm-up
/// of each sending domain.
public struct SendLimitsReport: Sendable, Equatable, Codable {
    /// One mailbox provider's cap per provider account.
    public struct MailboxRate: Sendable, Equatable, Codable {
        /// The group: google, microsoft, yahoo, apple.
        public var provider: String
        /// Messages per second from each account; nil: unlimited.
        public var messagesPerSecond: Int?
        /// `tenant` when the tenant set it, else `default`.
        public var source: String

        enum CodingKeys: String, CodingKey {
            case provider, source
            case messagesPerSecond = "messages_per_second"
        }
    }

    /// Messages per second for the whole tenant; nil: unlimited.
    public var messagesPerSecond: Int?
    /// Per mailbox provider, in a fixed order.
    public var mailboxRates: [MailboxRate]
    /// The sending domains warming up, by domain.
    public var warmups: [WarmupProgress]

    enum CodingKeys: String, CodingKey {
        case warmups
        case messagesPerSecond = "messages_per_second", mailboxRates = "mailbox_rates"
    }

    /// The report of `limits` and `warmups`.
    public init(limits: TenantSendLimits, warmups: [WarmupProgress]) {
        messagesPerSecond = limits.messagesPerSecond
        mailboxRates = MailboxProvider.allCases.map { group in
            let own = limits.mailboxRates[group]
            let rate = own ?? group.defaultMessagesPerSecond
            return MailboxRate(provider: group.rawValue, messagesPerSecond: rate > 0 ? rate : nil, source: own == nil ? "default" : "tenant")
        }
        self.warmups = warmups
    }
}
