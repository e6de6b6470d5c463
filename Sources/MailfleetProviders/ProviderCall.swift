import Foundation
import MailfleetCore
import MailfleetHTTPClient

/// The parts every HTTP provider adapter shares: making the call, and turning a failed call
/// (transport error or non-2xx answer) into outcomes for the messages it carried.
enum ProviderCall {
    /// A response, or the outcome of a call that got none.
    enum Answer {
        case response(HTTPResponse)
        case failed(BatchOutcome)
    }

    /// Performs the request; a transport failure is a retryable outcome for every message.
    static func execute(_ request: HTTPRequest, client: HTTPClient, provider: String, messages: [RenderedMessage]) async -> Answer {
        do {
            return .response(try await client.execute(request))
        } catch {
            return .failed(.all(messages, .retryable(reason: "\(provider): \(error)", retryAfter: nil), status: 0))
        }
    }

    /// The outcome of a whole call answered with a non-2xx status, classified the same way for
    /// every provider; nil when the status is 2xx.
    static func failure(_ response: HTTPResponse, provider: String, messages: [RenderedMessage]) -> BatchOutcome? {
        let detail = String(response.bodyString.prefix(300))
        switch ResponseClassifier.classify(status: response.status, retryAfter: response.header("Retry-After")) {
        case .accepted:
            return nil
        case .retryable(let retryAfter):
            return .all(messages, .retryable(reason: "\(provider) \(response.status): \(detail)", retryAfter: retryAfter), status: response.status)
        case .accountFailure:
            return .all(
                messages, .retryable(reason: "\(provider) \(response.status): \(detail)", retryAfter: nil),
                accountFailure: "\(provider) \(response.status)", status: response.status)
        case .rejected:
            return .all(messages, .rejected(reason: "\(provider) \(response.status): \(detail)"), status: response.status)
        }
    }

    /// The endpoint without trailing slashes.
    static func base(_ endpoint: String) -> String {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        return base
    }
}

extension BatchOutcome {
    /// The same outcome for every message of a list.
    static func all(_ messages: [RenderedMessage], _ outcome: DeliveryOutcome, accountFailure: String? = nil, status: Int) -> BatchOutcome {
        var outcomes: [UUID: DeliveryOutcome] = [:]
        for m in messages { outcomes[m.message.id] = outcome }
        return BatchOutcome(outcomes: outcomes, accountFailure: accountFailure, status: status)
    }

    /// Combines the outcomes of several calls made for one batch: every message's outcome, the
    /// first account failure, the highest status (so an error status is not hidden), and every
    /// recipient refusal.
    static func merged(_ parts: [BatchOutcome]) -> BatchOutcome {
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
