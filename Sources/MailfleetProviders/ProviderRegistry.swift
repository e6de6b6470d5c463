import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetRuntime

/// Hands out the adapter for a provider account's kind, sharing one HTTP client (one libcurl
/// multi thread) and one outbox writer thread across all of them.
///
/// A class, not a struct: with every adapter inline the value grew large enough that copying
/// it into async frames made the Swift 6.3 runtime abort at worker shutdown ("freed pointer
/// was not the last allocation"); a reference is one word wherever it goes.
public final class ProviderRegistry: Sendable {
    private let outbox: OutboxProvider
    private let sendGrid: SendGridProvider
    private let mailgun: MailgunProvider
    private let postmark: PostmarkProvider
    private let ses: SESProvider
    private let smtp: SMTPProvider

    /// Creates the registry.
    public init(httpClient: HTTPClient, outboxDirectory: String, outboxThread: DedicatedThread, callTimeout: Duration = .seconds(30)) {
        outbox = OutboxProvider(directory: outboxDirectory, thread: outboxThread)
        sendGrid = SendGridProvider(client: httpClient, timeout: callTimeout)
        mailgun = MailgunProvider(client: httpClient, timeout: callTimeout)
        postmark = PostmarkProvider(client: httpClient, timeout: callTimeout)
        ses = SESProvider(client: httpClient, timeout: callTimeout)
        smtp = SMTPProvider(client: httpClient, timeout: callTimeout)
    }

    /// The adapter for an account.
    public func provider(for account: ProviderAccount) -> any EmailProvider {
        switch account.kind {
        case .outbox: return outbox
        case .sendgrid: return sendGrid
        case .mailgun: return mailgun
        case .postmark: return postmark
        case .ses: return ses
        case .smtp: return smtp
        }
    }
}
