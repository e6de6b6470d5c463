import Foundation

/// When a sequence step is sent: a test on the events of the contact's earlier messages of
/// the same enrollment, or a segment filter over the contact. A contact for whom it is false
/// skips the step (and goes on to the next one); it does not leave the sequence.
public enum SequenceCondition: Sendable, Hashable {
    /// Step `step`'s message (1-based; nil: the step just before) had an event of `type`
    /// (`happened`), or had none (`!happened`). A step that was skipped had no message, so
    /// it had no event.
    case event(EventType, step: Int?, happened: Bool)
    /// The contact matches a segment filter (attributes, lists, events), evaluated in
    /// Postgres when the step comes due.
    case segment(SegmentFilter)

    /// The event types a condition may name.
    public static let eventTypes: [EventType] = [.delivered, .bounced, .opened, .clicked]
    /// The event types a sequence's goal may name: what a reader does, not what the mail
    /// system did (a goal of `delivered` would end nearly every enrollment after one step).
    public static let goalEventTypes: [EventType] = [.opened, .clicked]

    /// Whether it holds for step `index` (1-based) given what the earlier steps did. A segment
    /// condition is evaluated elsewhere: `segmentMatches` is its answer.
    public func holds(atStep index: Int, history: SequenceHistory, segmentMatches: Bool = false) -> Bool {
        switch self {
        case .event(let type, let step, let happened):
            let target = step ?? index - 1
            return history.events(ofStep: target).contains(type) == happened
        case .segment:
            return segmentMatches
        }
    }
}

extension SequenceCondition: Codable {
    enum CodingKeys: String, CodingKey {
        case event, step, happened, segment
    }

    /// Reads `{"event":"opened","step":2,"happened":false}` or `{"segment":{...filter}}`.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["event", "step", "happened", "segment"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if c.contains(.segment) {
            guard !c.contains(.event), !c.contains(.step), !c.contains(.happened) else {
                throw DecodingError.dataCorruptedError(forKey: .segment, in: c, debugDescription: "a condition is either an event test or a segment, not both")
            }
            self = .segment(try c.decode(SegmentFilter.self, forKey: .segment))
            return
        }
        let name = try c.decode(String.self, forKey: .event)
        guard let type = EventType(rawValue: name), Self.eventTypes.contains(type) else {
            throw DecodingError.dataCorruptedError(
                forKey: .event, in: c, debugDescription: "event is one of \(Self.eventTypes.map(\.rawValue).joined(separator: ", "))")
        }
        let step = try c.decodeIfPresent(Int.self, forKey: .step)
        if let step, step < 1 || step > DripSequence.maxSteps {
            throw DecodingError.dataCorruptedError(forKey: .step, in: c, debugDescription: "step must be 1 to \(DripSequence.maxSteps)")
        }
        self = .event(type, step: step, happened: try c.decodeIfPresent(Bool.self, forKey: .happened) ?? true)
    }

    /// Writes the JSON `init(from:)` reads.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .event(let type, let step, let happened):
            try c.encode(type.rawValue, forKey: .event)
            try c.encodeIfPresent(step, forKey: .step)
            try c.encode(happened, forKey: .happened)
        case .segment(let filter):
            try c.encode(filter, forKey: .segment)
        }
    }
}
