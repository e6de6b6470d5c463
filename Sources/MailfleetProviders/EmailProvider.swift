import Foundation
import MailfleetCore
import MailfleetProviderFormats

/// Something that sends a batch of messages through one provider account.
public protocol EmailProvider: Sendable {
    /// Sends one batch and reports what happened to each of its messages. Never throws:
    /// every failure is an outcome (retryable, rejected, or an account failure).
    func send(_ batch: ProviderBatch) async -> BatchOutcome
}
