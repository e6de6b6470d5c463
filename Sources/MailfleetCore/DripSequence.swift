import Foundation

/// A tenant's drip sequence: ordered steps, each a message sent a delay after the one before
/// (the first a delay after entry), if its condition holds. Contacts enter when they become
/// `subscribed` to `triggerListID` (when it names one) or by an API call; they leave when the
/// steps run out (`completed`), or early (`exited`) when they unsubscribe or reach the goal.
/// Named `DripSequence` so that it never shadows Swift's `Sequence`.
public struct DripSequence: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var name: String
    /// The list whose new subscribers enter it, if any.
    public var triggerListID: UUID?
    /// The sender of every step that names none.
    public var from: EmailAddress
    public var replyTo: EmailAddress?
    public var trackOpens: Bool
    public var trackClicks: Bool
    /// An event (`opened` or `clicked`, tracked) that ends a contact's enrollment when any of
    /// its sequence messages has it; nil: only unsubscribing or leaving the list ends it early.
    public var goal: EventType?
    public var steps: [SequenceStep]
    /// The runner's failed passes over it in a row (0 once one works); each pushes its due
    /// enrollments back further.
    public var failures: Int
    /// What the last failed pass said.
    public var lastError: String?
    public var createdAt: Date

    /// Creates a sequence record.
    public init(
        id: UUID, tenantID: UUID, name: String, triggerListID: UUID? = nil, from: EmailAddress, replyTo: EmailAddress? = nil,
        trackOpens: Bool = false, trackClicks: Bool = false, goal: EventType? = nil, steps: [SequenceStep], failures: Int = 0,
        lastError: String? = nil, createdAt: Date = Date()
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.triggerListID = triggerListID
        self.from = from
        self.replyTo = replyTo
        self.trackOpens = trackOpens
        self.trackClicks = trackClicks
        self.goal = goal
        self.steps = steps
        self.failures = failures
        self.lastError = lastError
        self.createdAt = createdAt
    }

    /// The most steps a sequence may have.
    public static let maxSteps = 50

    /// The `batch_id` of its messages, so the batch cancel reaches them.
    public var batchID: String { "sequence:" + id.lowercasedString }

    /// What is wrong with it (names, step count, templates, conditions that look ahead, goals
    /// and conditions on events that are not tracked), with each problem's field; empty when
    /// it may be stored.
    public func validate() -> [FieldError] {
        var problems: [FieldError] = []
        if name.isEmpty || name.unicodeScalars.count > 200 || name.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
            problems.append(FieldError(code: "invalid_value", field: "name", message: "name must be 1 to 200 characters on one line"))
        }
        if steps.isEmpty || steps.count > Self.maxSteps {
            problems.append(FieldError(code: "invalid_value", field: "steps", message: "a sequence has 1 to \(Self.maxSteps) steps"))
        }
        for (offset, step) in steps.enumerated() {
            let path = "steps[\(offset)]"
            for problem in step.template.validate() {
                problems.append(FieldError(code: problem.code, field: problem.field.map { "\(path).\($0)" } ?? path, message: problem.message))
            }
            if step.template.subject.unicodeScalars.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) {
                problems.append(FieldError(code: "invalid_header_value", field: "\(path).subject", message: "subject must not contain CR, LF or NUL"))
            }
            if offset == 0, case .event(_, let target, _)? = step.condition, target == nil {
                problems.append(FieldError(code: "invalid_value", field: "\(path).condition", message: "the first step has no step before it to test"))
            }
            if case .event(_, let target?, _)? = step.condition, target > offset {
                problems.append(FieldError(
                    code: "invalid_value", field: "\(path).condition.step", message: "a condition may only test an earlier step (1 to \(offset))"))
            }
        }
        for (offset, step) in steps.enumerated() {
            guard case .event(let type, let target, _)? = step.condition else { continue }
            let tested = target ?? offset
            if let problem = untracked(type, testing: steps.indices.contains(tested - 1) ? [steps[tested - 1]] : [], what: "a condition on \(type.rawValue)") {
                problems.append(FieldError(code: "invalid_value", field: "steps[\(offset)].condition.event", message: problem))
            }
        }
        if let goal {
            if !SequenceCondition.goalEventTypes.contains(goal) {
                problems.append(FieldError(
                    code: "invalid_value", field: "goal", message: "goal is one of \(SequenceCondition.goalEventTypes.map(\.rawValue).joined(separator: ", "))"))
            } else if let problem = untracked(goal, testing: steps, what: "goal \(goal.rawValue)") {
                problems.append(FieldError(code: "invalid_value", field: "goal", message: problem))
            }
        }
        return problems
    }

    /// Why an event of `type` on the messages of `tested` could never be recorded, if so: a
    /// click needs click tracking, an open needs open tracking and an HTML part (the pixel).
    /// Such a test would never fire, and "not opened" would always hold.
    private func untracked(_ type: EventType, testing tested: [SequenceStep], what: String) -> String? {
        switch type {
        case .clicked where !trackClicks:
            return "\(what) needs track_clicks: clicks are not recorded without it"
        case .opened where !trackOpens:
            return "\(what) needs track_opens: opens are not recorded without it"
        case .opened where !tested.isEmpty && !tested.contains(where: { $0.template.html != nil }):
            return tested.count == 1
                ? "\(what) tests a step with no html part: its opens cannot be seen"
                : "\(what) needs a step with an html part: opens cannot be seen without one"
        default:
            return nil
        }
    }
}
