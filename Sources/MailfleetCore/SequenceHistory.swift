import Foundation

/// What an enrollment's earlier steps did: for each step done, its message (nil when the
/// step was skipped) and the event types that message has had. Conditions and the exit
/// goal are decided on it.
public struct SequenceHistory: Sendable, Hashable {
    /// Step number (1-based) → the message sent for it, nil when skipped.
    public var messages: [Int: UUID?] = [:]
    /// Step number → the event types its message had.
    public var events: [Int: Set<EventType>] = [:]

    /// An empty history (nothing done yet).
    public init() {}

    /// Records step `step` as sent in `message` (or skipped when nil).
    public mutating func record(step: Int, message: UUID?) {
        messages[step] = .some(message)
    }

    /// Records that step `step`'s message had an event of `type`.
    public mutating func record(step: Int, event type: EventType) {
        events[step, default: []].insert(type)
    }

    /// The event types of step `step`'s message (none for a skipped step or one not done).
    public func events(ofStep step: Int) -> Set<EventType> {
        events[step] ?? []
    }

    /// Whether any message of the enrollment had an event of `type`.
    public func any(_ type: EventType) -> Bool {
        events.values.contains { $0.contains(type) }
    }
}
