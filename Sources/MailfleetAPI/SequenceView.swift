import Foundation
import Hummingbird
import MailfleetCore

/// A drip sequence as the API answers it; `enrollments` (counts by state) only on `GET /v1/sequences/{id}`.
struct SequenceView: ResponseEncodable, Equatable {
    var id: String
    var name: String
    var listID: String?
    var from: String
    var replyTo: String?
    var trackOpens: Bool
    var trackClicks: Bool
    var goal: String?
    var steps: [SequenceStep]
    var enrollments: [String: Int]?
    var failures: Int
    var lastError: String?
    var createdAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, from, goal, steps, enrollments, failures
        case lastError = "last_error"
        case listID = "list_id"
        case replyTo = "reply_to"
        case trackOpens = "track_opens"
        case trackClicks = "track_clicks"
        case createdAt = "created_at"
    }

    /// The view of a sequence; `counts` by enrollment state when given (every state present).
    init(_ sequence: DripSequence, counts: [SequenceEnrollment.State: Int]?) {
        id = sequence.id.lowercasedString
        name = sequence.name
        listID = sequence.triggerListID?.lowercasedString
        from = sequence.from.description
        replyTo = sequence.replyTo?.description
        trackOpens = sequence.trackOpens
        trackClicks = sequence.trackClicks
        goal = sequence.goal?.rawValue
        steps = sequence.steps
        enrollments = counts.map { counts in
            Dictionary(uniqueKeysWithValues: SequenceEnrollment.State.allCases.map { ($0.rawValue, counts[$0] ?? 0) })
        }
        failures = sequence.failures
        lastError = sequence.lastError
        createdAt = ISO8601.format(sequence.createdAt)
    }
}

/// A page of `GET /v1/sequences` by name; `next` (absent on the last page) is the `after` of the next.
struct SequencePage: ResponseEncodable, Equatable {
    var sequences: [SequenceView]
    var next: String?
}

/// One contact's place in a sequence.
struct EnrollmentView: ResponseEncodable, Equatable {
    var id: String
    var sequenceID: String
    var contactID: String
    var email: String
    var state: String
    var exitReason: String?
    var step: Int
    var nextRunAt: String?
    var entry: String
    var enteredAt: String
    var finishedAt: String?

    enum CodingKeys: String, CodingKey {
        case id, email, state, step, entry
        case sequenceID = "sequence_id"
        case contactID = "contact_id"
        case exitReason = "exit_reason"
        case nextRunAt = "next_run_at"
        case enteredAt = "entered_at"
        case finishedAt = "finished_at"
    }

    /// The view of an enrollment; `step` is the number of steps done.
    init(_ enrollment: SequenceEnrollment) {
        id = enrollment.id.lowercasedString
        sequenceID = enrollment.sequenceID.lowercasedString
        contactID = enrollment.contactID.lowercasedString
        email = enrollment.email
        state = enrollment.state.rawValue
        exitReason = enrollment.exitReason?.rawValue
        step = enrollment.currentStep
        nextRunAt = enrollment.nextRunAt.map(ISO8601.format)
        entry = enrollment.entry.rawValue
        enteredAt = ISO8601.format(enrollment.enteredAt)
        finishedAt = enrollment.finishedAt.map(ISO8601.format)
    }
}

/// A page of enrollments; `next` (absent on the last page) is the `after` of the next.
struct EnrollmentPage: ResponseEncodable, Equatable {
    var enrollments: [EnrollmentView]
    var next: String?
}
