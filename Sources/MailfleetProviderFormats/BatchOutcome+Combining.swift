import Foundation
import MailfleetCore

extension BatchOutcome {
    /// The same outcome for every message of a list.
    public static func all(_ messages: [RenderedMessage], _ outcome: DeliveryOutcome, accountFailure: String? = nil, status: Int) -> BatchOutcome {
        var outcomes: [UUID: DeliveryOutcome] = [:]
        for m in messages { outcomes[m.message.id] = outcome }
        return BatchOutcome(outcomes: outcomes, accountFailure: accountFailure, status: status)
    }

    /// Combines the outcomes of several calls made for one batch: every message's outcome, the
    /// first account failure, the highest status (so an error status is not hidden), and every
    /// recipient refusal.
    public static func merged(_ parts: [BatchOutcome]) -> BatchOutcome {
        var outcomes: [UUID: DeliveryOutcome] = [:]
        var failure: String?
        var status = 0
        var refusals: [UUID: [RecipientRefusal]] = [:]
        for part in parts {
            outcomes.merge(part.outcomes) { _, new in new }
            failure = failure ?? part.accountFailure
            status = max(status, part.status)
            refusals.merge(part.refusals) { _, new in new }
        }
        return BatchOutcome(outcomes: outcomes, accountFailure: failure, status: status, refusals: refusals)
    }
}
