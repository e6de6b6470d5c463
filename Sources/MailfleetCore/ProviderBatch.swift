/// Messages that go to one provider account in one call.
public struct ProviderBatch: Sendable {
    /// The account the call goes to.
    public var account: ProviderAccount
    /// The messages in the call (for body-sharing providers, all with one `ContentKey`).
    public var messages: [RenderedMessage]

    /// Creates a batch.
    public init(account: ProviderAccount, messages: [RenderedMessage]) {
        self.account = account
        self.messages = messages
    }

    /// Recipients across the batch (to, cc and bcc).
    public var recipientCount: Int { messages.reduce(0) { $0 + $1.message.content.allRecipients.count } }
}

/// Packs messages into as few provider calls as the provider's limits allow.
public enum BatchPlanner {
    /// Groups messages that can share a call (same body, for providers that send one body to
    /// many recipients) and splits groups at the provider's message and recipient limits,
    /// keeping the input order inside each batch.
    public static func plan(_ messages: [RenderedMessage], for account: ProviderAccount) -> [ProviderBatch] {
        let limit = account.kind.batchLimit
        let recipientLimit = account.kind.batchRecipientLimit
        var groups: [ContentKey: [RenderedMessage]] = [:]
        var order: [ContentKey] = []
        for message in messages {
            let key = account.kind.sharesBodyAcrossRecipients ? message.contentKey : ContentKey.any
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(message)
        }
        var batches: [ProviderBatch] = []
        for key in order {
            var current: [RenderedMessage] = []
            var recipients = 0
            for message in groups[key] ?? [] {
                let count = message.message.content.allRecipients.count
                if !current.isEmpty && (current.count + 1 > limit || recipients + count > recipientLimit) {
                    batches.append(ProviderBatch(account: account, messages: current))
                    current = []
                    recipients = 0
                }
                current.append(message)
                recipients += count
            }
            if !current.isEmpty { batches.append(ProviderBatch(account: account, messages: current)) }
        }
        return batches
    }
}

extension ProviderKind {
    /// True when one call sends a single body to many recipients (so messages must share it).
    public var sharesBodyAcrossRecipients: Bool {
        switch self {
        case .outbox, .postmark, .smtp: return false
        // SendBulkEmail sends one inline template to every entry.
        case .sendgrid, .mailgun, .ses: return true
        }
    }

    /// Most recipients (to, cc and bcc together) one call may carry.
    public var batchRecipientLimit: Int {
        switch self {
        // SendBulkEmail limits entries (50) and destinations per entry (50), not their sum: a
        // limit of 50 recipients per call would split multi-recipient messages needlessly.
        case .ses: return 50 * 50
        default: return batchLimit
        }
    }
}

extension ContentKey {
    /// The one key used when a provider does not need shared bodies.
    static let any = ContentKey(from: try! EmailAddress(email: "any@any.invalid"), replyTo: nil, html: nil, text: nil, headers: [:])
}
