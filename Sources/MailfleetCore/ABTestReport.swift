import Foundation

/// One variant's counts in an A/B test: messages made for it in the test cohort and what their
/// recipients did (each message counted once per event type).
public struct CampaignVariantCounts: Sendable, Hashable, Codable {
    public var sent = 0
    public var delivered = 0
    public var opened = 0
    public var clicked = 0
    public var bounced = 0
    public var unsubscribed = 0
    public var complained = 0

    /// All zero.
    public init() {}

    /// Messages with the metric's event.
    public func conversions(_ metric: ABTest.Metric) -> Int { metric == .clicked ? clicked : opened }
}

/// A campaign's A/B test as the API and CLI report it: each variant's counts, rate, interval
/// and comparison with the best as they stand now, and the decision once taken (with the
/// counts it was taken on).
public struct ABTestReport: Sendable, Hashable, Codable {
    /// Where the test is.
    public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
        /// Not started, or making the test cohort's messages.
        case cohort
        /// The cohort was made; waiting for the decision.
        case testing
        /// Decided: the rest get the winner.
        case decided
    }

    /// One variant: what it sends, its counts and its statistics now.
    public struct Variant: Sendable, Hashable, Codable {
        public var name: String
        public var subject: String
        public var from: String
        public var counts: CampaignVariantCounts
        public var statistics: ABTestResult.Arm
    }

    public var campaignID: String
    /// The campaign's state.
    public var state: CampaignState
    public var phase: Phase
    /// The test's settings.
    public var test: ABTest
    /// When it is decided at the latest (RFC 3339), once the cohort was made.
    public var decideBy: String?
    /// The variant with the highest rate now.
    public var best: String
    /// Whether the best is now significantly better than every other variant.
    public var significant: Bool
    /// α / (variants − 1), the level of each comparison.
    public var comparisonSignificance: Double
    public var variants: [Variant]
    /// The winner's name, once decided.
    public var winner: String?
    /// The decision, once taken.
    public var decision: ABDecision?

    enum CodingKeys: String, CodingKey {
        case state, phase, test, best, significant, variants, winner, decision
        case campaignID = "campaign_id"
        case decideBy = "decide_by"
        case comparisonSignificance = "comparison_significance"
    }

    /// The report of an A/B-tested campaign with `counts` per variant; nil for a campaign without a test.
    public init?(campaign: Campaign, counts: [CampaignVariantCounts]) {
        guard let test = campaign.abTest, campaign.isABTest, counts.count == campaign.variants.count else { return nil }
        let result = ABTestResult.evaluate(
            names: campaign.variants.map(\.name), sent: counts.map(\.sent), conversions: counts.map { $0.conversions(test.metric) },
            metric: test.metric, significance: test.significance)
        campaignID = campaign.id.lowercasedString
        state = campaign.state
        phase = campaign.abDecision != nil ? .decided : campaign.abTestEndsAt != nil ? .testing : .cohort
        self.test = test
        decideBy = campaign.abDecision == nil ? campaign.abTestEndsAt.map(ISO8601.format) : nil
        best = campaign.variants[result.best].name
        significant = result.significant
        comparisonSignificance = result.comparisonSignificance
        variants = campaign.variants.enumerated().map { index, variant in
            let template = variant.template(over: campaign.template)
            return Variant(
                name: variant.name, subject: template.subject, from: (variant.from ?? campaign.from).description, counts: counts[index],
                statistics: result.variants[index])
        }
        winner = campaign.abDecision?.winnerName
        decision = campaign.abDecision
    }
}
