extension MessageStatus {
    /// How far a sent message has got by its provider's reports: sending, sent, then delivered,
    /// then bounced, then complained. A report moves a message only forward (a late `delivered`
    /// never undoes a bounce); nil for statuses reports do not move. `sending` is ranked because
    /// a provider's report can arrive before the worker has written `sent`.
    public var reportRank: Int? {
        switch self {
        case .sending: return -1
        case .sent: return 0
        case .delivered: return 1
        case .bounced: return 2
        case .complained: return 3
        case .queued, .failed, .suppressed, .cancelled: return nil
        }
    }

    /// The status a provider's report of `event` gives a message, or nil when it gives none.
    public static func reported(by event: EventType) -> MessageStatus? {
        switch event {
        case .delivered: return .delivered
        case .complained: return .complained
        case .bounced: return .bounced
        default: return nil
        }
    }

    /// The status after a report of `event`: the reported status when it is further along, else nil.
    public func advanced(by event: EventType) -> MessageStatus? {
        guard let current = reportRank, let next = MessageStatus.reported(by: event), let nextRank = next.reportRank, nextRank > current else { return nil }
        return next
    }
}
