import Foundation
import MailfleetCore

extension BatchOutcome {
    /// The outcome of a whole call answered with a non-2xx status, classified the same way for
    /// every provider; nil when the status is 2xx. `body` is the answer's body, quoted (cut to
    /// 300 characters) in the reasons.
    public static func failedCall(
        status: Int, retryAfter: String?, body: [UInt8], provider: String, messages: [RenderedMessage]
    ) -> BatchOutcome? {
        let detail = String(String(decoding: body, as: UTF8.self).prefix(300))
        switch ResponseClassifier.classify(status: status, retryAfter: retryAfter) {
        case .accepted:
            return nil
        case .retryable(let retryAfter):
            return .all(messages, .retryable(reason: "\(provider) \(status): \(detail)", retryAfter: retryAfter), status: status)
        case .accountFailure:
            return .all(
                messages, .retryable(reason: "\(provider) \(status): \(detail)", retryAfter: nil),
                accountFailure: "\(provider) \(status)", status: status)
        case .rejected:
            return .all(messages, .rejected(reason: "\(provider) \(status): \(detail)"), status: status)
        }
    }

    /// The outcome of a call whose answer has one result per message, in order: each message's
    /// own outcome, and the first account failure (its message retryable, so it fails over).
    public static func perMessage(_ messages: [RenderedMessage], _ results: [MessageResult], status: Int) -> BatchOutcome {
        var outcomes: [UUID: DeliveryOutcome] = [:]
        var accountFailure: String?
        for (rendered, result) in zip(messages, results) {
            switch result {
            case .accepted(let id): outcomes[rendered.message.id] = .accepted(providerMessageID: id)
            case .rejected(let reason): outcomes[rendered.message.id] = .rejected(reason: reason)
            case .retryable(let reason): outcomes[rendered.message.id] = .retryable(reason: reason, retryAfter: nil)
            case .accountFailure(let reason):
                outcomes[rendered.message.id] = .retryable(reason: reason, retryAfter: nil)
                accountFailure = accountFailure ?? reason
            }
        }
        return BatchOutcome(outcomes: outcomes, accountFailure: accountFailure, status: status)
    }
}
