import Foundation
import MailfleetCore

/// What a provider call did.
public struct BatchOutcome: Sendable {
    /// Outcome per message id.
    public var outcomes: [UUID: DeliveryOutcome]
    /// Set when the account itself failed (bad credentials, sending not allowed, no usable
    /// configuration). Its messages are retryable, so they move on to the next provider in the
    /// chain; the worker logs the failure.
    public var accountFailure: String?
    /// The HTTP status (the SMTP reply code for SMTP; 0 for a local or transport failure), for
    /// metrics.
    public var status: Int
    /// Recipients refused inside messages that were accepted for their other recipients, by
    /// message id.
    public var refusals: [UUID: [RecipientRefusal]]

    /// Creates an outcome.
    public init(outcomes: [UUID: DeliveryOutcome], accountFailure: String? = nil, status: Int, refusals: [UUID: [RecipientRefusal]] = [:]) {
        self.outcomes = outcomes
        self.accountFailure = accountFailure
        self.status = status
        self.refusals = refusals
    }

    /// The same outcome for every message of a batch.
    public static func all(_ batch: ProviderBatch, _ outcome: DeliveryOutcome, accountFailure: String? = nil, status: Int) -> BatchOutcome {
        all(batch.messages, outcome, accountFailure: accountFailure, status: status)
    }
}
