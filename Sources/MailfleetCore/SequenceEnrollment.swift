import Foundation

/// One contact's way through one sequence: how many steps are done, when the next is due,
/// and whether it is still under way. A contact enters a sequence at most once.
public struct SequenceEnrollment: Sendable, Hashable, Identifiable {
    public var id: UUID
    public var tenantID: UUID
    public var sequenceID: UUID
    public var contactID: UUID
    /// The contact's address (read with the enrollment).
    public var email: String
    public var state: State
    /// Why it ended early (`exited`).
    public var exitReason: ExitReason?
    /// Steps done (sent or skipped); the next one is `currentStep + 1`.
    public var currentStep: Int
    /// When the next step is due (nil once it ended).
    public var nextRunAt: Date?
    /// How it entered.
    public var entry: Entry
    public var enteredAt: Date
    /// When it completed or exited.
    public var finishedAt: Date?

    /// Creates an enrollment record.
    public init(
        id: UUID, tenantID: UUID, sequenceID: UUID, contactID: UUID, email: String, state: State, exitReason: ExitReason? = nil, currentStep: Int,
        nextRunAt: Date?, entry: Entry, enteredAt: Date, finishedAt: Date? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.sequenceID = sequenceID
        self.contactID = contactID
        self.email = email
        self.state = state
        self.exitReason = exitReason
        self.currentStep = currentStep
        self.nextRunAt = nextRunAt
        self.entry = entry
        self.enteredAt = enteredAt
        self.finishedAt = finishedAt
    }

    /// Where an enrollment is.
    public enum State: String, Sendable, Hashable, Codable, CaseIterable {
        /// Steps are still to come.
        case active
        /// Every step was sent or skipped.
        case completed
        /// It ended early (`exitReason` says why).
        case exited
    }

    /// Why an enrollment ended early.
    public enum ExitReason: String, Sendable, Hashable, Codable, CaseIterable {
        /// The contact unsubscribed from the sequence's list, or its address is suppressed, or
        /// it used a sequence message's unsubscribe link or complained about one.
        case unsubscribed
        /// It entered by the trigger list and is no longer a `subscribed` member of it (removed,
        /// or the list deleted).
        case leftList = "left_list"
        /// A sequence message had the sequence's goal event.
        case goal
    }

    /// How a contact entered.
    public enum Entry: String, Sendable, Hashable, Codable, CaseIterable {
        /// It became `subscribed` to the sequence's trigger list.
        case list
        /// `POST /v1/sequences/{id}/enrollments`.
        case api
    }
}
