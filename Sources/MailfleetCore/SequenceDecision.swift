import Foundation

/// What the runner does with an enrollment whose next step is due: the pure rule, given the
/// sequence, what the earlier steps did and whether the contact unsubscribed. One step is
/// decided per turn; the next one is then scheduled its delay after now.
public enum SequenceDecision: Sendable, Hashable {
    /// End the enrollment early.
    case exit(SequenceEnrollment.ExitReason)
    /// Send step `step` (1-based).
    case send(step: Int)
    /// Skip step `step`: its condition is false.
    case skip(step: Int)
    /// Nothing is left to do (no step after `currentStep`): completed.
    case complete

    /// Decides step `currentStep + 1`. Unsubscribing wins over everything, then leaving the
    /// trigger list (`leftList`: an enrollment that entered by the list no longer has a
    /// subscribed membership of it), then the goal, then the step's condition
    /// (`segmentMatches` answers a segment condition).
    public static func decide(
        _ sequence: DripSequence, currentStep: Int, history: SequenceHistory, unsubscribed: Bool, leftList: Bool = false,
        segmentMatches: Bool = false
    ) -> SequenceDecision {
        if unsubscribed || history.any(.unsubscribed) || history.any(.complained) { return .exit(.unsubscribed) }
        if leftList { return .exit(.leftList) }
        if let goal = sequence.goal, history.any(goal) { return .exit(.goal) }
        let step = currentStep + 1
        guard sequence.steps.indices.contains(step - 1) else { return .complete }
        if let condition = sequence.steps[step - 1].condition, !condition.holds(atStep: step, history: history, segmentMatches: segmentMatches) {
            return .skip(step: step)
        }
        return .send(step: step)
    }

    /// When step `done + 1` is due once step `done` was sent or skipped at `now`; nil when
    /// `done` was the last (the enrollment is completed).
    public static func nextRunAt(_ sequence: DripSequence, afterStep done: Int, now: Date) -> Date? {
        guard sequence.steps.indices.contains(done) else { return nil }
        return now.addingTimeInterval(TimeInterval(sequence.steps[done].delaySeconds))
    }

    /// When the first step is due for a contact entering at `enteredAt`.
    public static func firstRunAt(_ sequence: DripSequence, enteredAt: Date) -> Date {
        enteredAt.addingTimeInterval(TimeInterval(sequence.steps.first?.delaySeconds ?? 0))
    }
}

extension DripSequence {
    /// The submission of step `step` (1-based) for a contact, as the batch API would take it:
    /// bulk, rendered by `SubmissionPlan` from the template registered under `templateKey`,
    /// with the contact's attributes and `email` as variables, in the sequence's batch. Nil
    /// when the contact's address is not one.
    public func submission(step: Int, email: String, attributes: JSONValue, templateKey: UUID) -> MessageSubmission? {
        guard let address = try? EmailAddress(email: email) else { return nil }
        var variables: [String: JSONValue] = [:]
        if case .object(let object) = attributes { variables = object }
        variables["email"] = .string(email)
        let content = MessageContent(
            from: steps[step - 1].from ?? from, to: [address], replyTo: replyTo, subject: "",
            metadata: ["sequence_id": id.lowercasedString, "sequence_step": String(step)], trackOpens: trackOpens, trackClicks: trackClicks)
        var submission = MessageSubmission(content: content, priority: .bulk, sendAt: nil, batchID: batchID)
        submission.templateID = templateKey
        submission.variables = .object(variables)
        return submission
    }
}
