import Foundation

/// Walks a group of messages along a tenant's provider chain: calls the first account, moves
/// what fails retryably or must wait (an account open or paced) to the next account at once,
/// and keeps the last answer for each message. A state machine with no I/O: `next()` says what to do, the caller does it and
/// reports calls back with `record(_:refusals:for:)`.
public struct FailoverPlan: Sendable {
    /// What the caller does next.
    public enum Action: Sendable {
        /// Send this batch to its account, then report the answer with `record(_:refusals:for:)`.
        case call(ProviderBatch)
        /// `messages` failed retryably or could not be sent now, and move on to `account` (a metric,
        /// nothing to send yet).
        case failOver(messages: Int, to: ProviderAccount)
        /// Every message has its final answer.
        case finish(Finished)
    }

    /// The answer for each message: its outcome with the account that gave it (nil when no
    /// account was called), and the recipients refused inside accepted messages.
    public struct Finished: Sendable {
        /// Final outcome per message id.
        public var results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)] = [:]
        /// Recipients refused inside accepted messages, per message id.
        public var refusals: [UUID: [RecipientRefusal]] = [:]

        /// Nothing answered yet.
        public init() {}
    }

    private let chain: [ProviderAccount]
    /// Position in `chain` of the account being called.
    private var position = 0
    /// Calls still to make to the current account.
    private var pending: [ProviderBatch]
    /// Messages that failed retryably on the current account and go on to the next one.
    private var movingOn: [RenderedMessage] = []
    /// A call handed out and not reported yet.
    private var awaiting: ProviderBatch?
    private var finished = Finished()

    /// Why a message of a tenant with no provider account waits.
    public static let noAccountReason = "the tenant has no provider account; held until one is added"

    /// Plans the messages along `chain`, first choice first. With no account at all the
    /// messages are held until `heldUntil`, when the tenant's chain is looked at again.
    public init(messages: [RenderedMessage], chain: [ProviderAccount], heldUntil: Date) {
        self.chain = chain
        if let first = chain.first {
            pending = BatchPlanner.plan(messages, for: first)
        } else {
            pending = []
            // Nothing to call: not the message's fault, and an account may be added any time.
            for rendered in messages {
                finished.results[rendered.message.id] = (.waiting(reason: Self.noAccountReason, until: heldUntil), nil)
            }
        }
    }

    /// The next thing to do. Each `.call` must be reported with `record` before asking again.
    public mutating func next() -> Action {
        precondition(awaiting == nil, "a call's answer must be recorded before the next action")
        if !pending.isEmpty {
            let batch = pending.removeFirst()
            awaiting = batch
            return .call(batch)
        }
        if !movingOn.isEmpty && position + 1 < chain.count {
            position += 1
            let account = chain[position]
            let messages = movingOn
            movingOn = []
            pending = BatchPlanner.plan(messages, for: account)
            return .failOver(messages: messages.count, to: account)
        }
        return .finish(finished)
    }

    /// Records the answer of the call last handed out: per message its outcome (a message the
    /// provider said nothing about counts as retryable) and the recipients refused inside it.
    public mutating func record(_ outcomes: [UUID: DeliveryOutcome], refusals: [UUID: [RecipientRefusal]], for batch: ProviderBatch) {
        precondition(awaiting.map { $0.account.id == batch.account.id && $0.messages.count == batch.messages.count } ?? false,
                     "recorded a call that was not handed out")
        awaiting = nil
        let isLast = position == chain.count - 1
        for rendered in batch.messages {
            let id = rendered.message.id
            let outcome = outcomes[id] ?? .retryable(reason: "no result from provider", retryAfter: nil)
            if case .accepted = outcome, let refused = refusals[id], !refused.isEmpty {
                finished.refusals[id] = refused
            }
            // Kept even when the message moves on: it is the answer should no later call give one.
            finished.results[id] = Self.combined(finished.results[id], (outcome, batch.account.id))
            if outcome.movesOn && !isLast { movingOn.append(rendered) }
        }
    }

    /// A message's answer after `latest`, given what earlier accounts of the chain said. Waits
    /// add up: every account open or paced makes one wait, until the earliest of them may be
    /// called again, with each account's reason. A wait after a real retryable failure keeps
    /// the failure: an attempt was made and failed, and the retry policy paces what follows.
    static func combined(
        _ earlier: (outcome: DeliveryOutcome, accountID: UUID?)?, _ latest: (outcome: DeliveryOutcome, accountID: UUID?)
    ) -> (outcome: DeliveryOutcome, accountID: UUID?) {
        guard case .waiting(let reason, let until) = latest.outcome, let earlier else { return latest }
        switch earlier.outcome {
        case .waiting(let earlierReason, let earlierUntil):
            return (.waiting(reason: earlierReason + "; " + reason, until: min(earlierUntil, until)), latest.accountID)
        case .retryable:
            return earlier
        case .accepted, .rejected:
            return latest
        }
    }
}
