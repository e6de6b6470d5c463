/// A contact's subscription to one list.
public enum MembershipStatus: String, Sendable, Codable, CaseIterable {
    /// Added to a double opt-in list, not confirmed yet: receives no campaign mail.
    case pending
    /// Receives the list's mail.
    case subscribed
    /// Left the list, or the address is suppressed.
    case unsubscribed

    /// The status a new member of a list starts in: `unsubscribed` when the tenant suppresses
    /// the address (a list never overrides the suppression list), else `pending` on a double
    /// opt-in list, else `subscribed`.
    public static func initial(doubleOptIn: Bool, suppressed: Bool) -> MembershipStatus {
        if suppressed { return .unsubscribed }
        return doubleOptIn ? .pending : .subscribed
    }
}
