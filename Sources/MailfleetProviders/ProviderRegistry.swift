import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetRuntime

/// Hands out the adapter for a provider account's kind, sharing one HTTP client (one libcurl
/// multi thread) and one outbox writer thread across all of them.
public struct ProviderRegistry: Sendable {
    private let outbox: OutboxProvider
    private let sendGrid: SendGridProvider

    /// Creates the registry.
    public init(httpClient: HTTPClient, outboxDirectory: String, outboxThread: DedicatedThread, callTimeout: Duration = .seconds(30)) {
        outbox = OutboxProvider(directory: outboxDirectory, thread: outboxThread)
        sendGrid = SendGridProvider(client: httpClient, timeout: callTimeout)
    }

    /// The adapter for an account.
    public func provider(for account: ProviderAccount) -> any EmailProvider {
        switch account.kind {
        case .outbox: return outbox
        case .sendgrid: return sendGrid
        }
    }
}
