import Foundation

/// Turns per-message delivery outcomes into what must be written: sent, deferred with a retry
/// time, waiting (deferred with no attempt counted), or failed (dead-lettered: attempts
/// exhausted, too old, or refused for good). Pure, so the retry and dead-letter rules are unit-tested.
public struct DeliveryPlan: Sendable {
    /// The writes for Postgres.
    public var outcomes = OutcomeBatch()
    /// Entries to remove from their leases (sent).
    public var acknowledge: [(id: UUID, priority: Priority)] = []
    /// Entries to move to the delayed set.
    public var reschedule: [(id: UUID, priority: Priority, dueAt: Date)] = []
    /// Entries to dead-letter with their reasons.
    public var deadLetter: [(id: UUID, priority: Priority, reason: String)] = []
    /// A `bounced` event for each recipient refused inside a message that was sent to its
    /// other recipients (permanent or not: the message is not sent again for it).
    public var recipientEvents: [NewEvent] = []
    /// How many of `outcomes.deferred` wait for an account rather than retry a failure.
    public var waiting = 0

    /// Builds the plan for a round of messages.
    ///
    /// - Parameters:
    ///   - results: per message id, its outcome and the account that produced it.
    ///   - messages: the claimed messages (attempt counts come from here).
    ///   - refusals: per message id, recipients refused while the message was accepted.
    public static func make<R: RandomNumberGenerator>(
        messages: [Message], results: [UUID: (outcome: DeliveryOutcome, accountID: UUID?)],
        refusals: [UUID: [RecipientRefusal]] = [:], policy: RetryPolicy, now: Date, rng: inout R
    ) -> DeliveryPlan {
        var plan = DeliveryPlan()
        for message in messages {
            let entry = (id: message.id, priority: message.priority)
            guard let result = results[message.id] else {
                // Not attempted at all (cannot happen by construction); retry soon rather than lose it.
                plan.outcomes.deferred.append(.init(messageID: message.id, tenantID: message.tenantID, reason: "not attempted", nextAttemptAt: now.addingTimeInterval(policy.baseDelay)))
                plan.reschedule.append((message.id, message.priority, now.addingTimeInterval(policy.baseDelay)))
                continue
            }
            switch result.outcome {
            case .accepted(let providerMessageID):
                plan.outcomes.sent.append(.init(messageID: message.id, tenantID: message.tenantID, accountID: result.accountID ?? UUID(), providerMessageID: providerMessageID))
                plan.acknowledge.append(entry)
                for refusal in refusals[message.id] ?? [] {
                    plan.recipientEvents.append(NewEvent(
                        tenantID: message.tenantID, messageID: message.id, type: .bounced,
                        detail: [
                            "recipient": refusal.address, "code": "\(refusal.code)", "reply": refusal.reply,
                            "permanent": refusal.permanent ? "true" : "false",
                        ], occurredAt: now))
                }
            case .rejected(let reason):
                plan.outcomes.failed.append(.init(messageID: message.id, tenantID: message.tenantID, reason: reason, countsAsAttempt: result.accountID != nil))
                plan.deadLetter.append((message.id, message.priority, reason))
            case .retryable(let reason, let retryAfter):
                let age = message.retryAge(at: now)
                let final: String
                switch policy.decision(afterAttempt: message.attempts + 1, retryAfter: retryAfter, age: age, using: &rng) {
                case .retry(let delay):
                    let due = now.addingTimeInterval(delay)
                    plan.outcomes.deferred.append(.init(messageID: message.id, tenantID: message.tenantID, reason: reason, nextAttemptAt: due))
                    plan.reschedule.append((message.id, message.priority, due))
                    continue
                case .giveUp:
                    final = "attempts exhausted (\(message.attempts + 1)): \(reason)"
                case .expire:
                    final = "expired after \(policy.maxAgeText): \(reason)"
                }
                plan.outcomes.failed.append(.init(messageID: message.id, tenantID: message.tenantID, reason: final))
                plan.deadLetter.append((message.id, message.priority, final))
            case .waiting(let reason, let until):
                // Not the message's fault: no attempt counted, no retry limit, no dead letter.
                let due = policy.wakeTime(waitingUntil: until, now: now, using: &rng)
                plan.outcomes.deferred.append(.init(
                    messageID: message.id, tenantID: message.tenantID, reason: reason, nextAttemptAt: due, countsAsAttempt: false,
                    startsHold: message.heldSince == nil))
                plan.reschedule.append((message.id, message.priority, due))
                plan.waiting += 1
            }
        }
        return plan
    }
}
