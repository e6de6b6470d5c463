import Foundation

/// A sequence as a tenant writes it: the body of `POST /v1/sequences` and the file of
/// `mailfleet sequences create`.
public struct SequenceDefinition: Decodable, Sendable {
    public let name: String
    public let listID: UUID?
    public let from: EmailAddress
    public let replyTo: EmailAddress?
    public let trackOpens: Bool?
    public let trackClicks: Bool?
    public let goal: EventType?
    public let steps: [SequenceStep]

    enum CodingKeys: String, CodingKey {
        case name, from, goal, steps
        case listID = "list_id"
        case replyTo = "reply_to"
        case trackOpens = "track_opens"
        case trackClicks = "track_clicks"
    }

    /// Reads and checks the fields (a step's templates are resolved by the store).
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["name", "list_id", "from", "reply_to", "track_opens", "track_clicks", "goal", "steps"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        if let text = try c.decodeIfPresent(String.self, forKey: .listID) {
            guard let id = UUID(uuidString: text) else {
                throw DecodingError.dataCorruptedError(forKey: .listID, in: c, debugDescription: "list_id must be a list id (a UUID)")
            }
            listID = id
        } else {
            listID = nil
        }
        from = try c.decode(EmailAddress.self, forKey: .from)
        replyTo = try c.decodeIfPresent(EmailAddress.self, forKey: .replyTo)
        trackOpens = try c.decodeIfPresent(Bool.self, forKey: .trackOpens)
        trackClicks = try c.decodeIfPresent(Bool.self, forKey: .trackClicks)
        if let text = try c.decodeIfPresent(String.self, forKey: .goal) {
            guard let type = EventType(rawValue: text), SequenceCondition.goalEventTypes.contains(type) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .goal, in: c, debugDescription: "goal is one of \(SequenceCondition.goalEventTypes.map(\.rawValue).joined(separator: ", "))")
            }
            goal = type
        } else {
            goal = nil
        }
        steps = try c.decode([SequenceStep].self, forKey: .steps)
    }
}

extension SequenceDefinition {
    /// The sequence it defines for a tenant, with a new id.
    public func sequence(tenantID: UUID) -> DripSequence {
        DripSequence(
            id: UUID(), tenantID: tenantID, name: name, triggerListID: listID, from: from, replyTo: replyTo, trackOpens: trackOpens ?? false,
            trackClicks: trackClicks ?? false, goal: goal, steps: steps)
    }
}
