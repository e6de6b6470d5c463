/// What happened to one `AcceptRequest`.
public enum AcceptResult: Sendable, Equatable {
    /// Its messages are committed.
    case created
    /// An earlier request holds the idempotency key; `sameRequest` tells whether the bodies match.
    case replay(sameRequest: Bool, status: Int, body: String)
    /// Refused whole over the tenant's quota; nothing is stored, its idempotency key included.
    case overQuota(QuotaRefusal)
}
