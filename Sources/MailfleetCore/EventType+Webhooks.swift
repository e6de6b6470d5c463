/// The names events carry in webhooks: `email.` and the event type (`email.bounced`).
extension EventType {
    /// The prefix of every webhook event type.
    public static let webhookPrefix = "email."

    /// This event's webhook type, e.g. `email.bounced`.
    public var webhookType: String { Self.webhookPrefix + rawValue }

    /// Every webhook type an endpoint may ask for, in declaration order.
    public static var webhookTypes: [String] { allCases.map(\.webhookType) }

    /// The webhook type of a stored event type (`bounced` → `email.bounced`).
    public static func webhookType(of stored: String) -> String { webhookPrefix + stored }
}
