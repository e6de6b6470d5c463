/// Where a campaign is in its life. `draft` until started; `scheduled` until its first send
/// time; `running` while the runner expands recipients; `testing` while an A/B test waits for
/// its decision; `paused` and back; `done` once every recipient was expanded; `cancelled` for
/// good. `done` and `cancelled` are final.
public enum CampaignState: String, Sendable, Hashable, Codable, CaseIterable {
    /// Created, not started: nothing is sent.
    case draft
    /// Started, waiting for its time.
    case scheduled
    /// Being expanded into messages.
    case running
    /// An A/B test's cohort was made; the rest waits for the decision.
    case testing
    /// Expansion stopped by the tenant; `resume` continues from the cursor.
    case paused
    /// Stopped for good; its queued messages were cancelled.
    case cancelled
    /// Every recipient was expanded.
    case done

    /// Whether nothing can change it any more.
    public var isFinal: Bool { self == .cancelled || self == .done }
}

/// What a tenant (or the runner) asks of a campaign.
public enum CampaignCommand: String, Sendable, Hashable, CaseIterable {
    /// Start a draft: scheduled for its time, or running at once.
    case start
    /// Stop expanding.
    case pause
    /// Go on from the cursor.
    case resume
    /// Stop for good and cancel its queued messages.
    case cancel
}
