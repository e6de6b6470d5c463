import Crypto
import Foundation

/// How a campaign's A/B test runs: how large its test cohort is (a share of the recipients or a
/// fixed sample), which rate decides it, when it is decided and at what significance level.
/// Stored with the campaign (jsonb, the API's field names) and fixed once it starts.
public struct ABTest: Sendable, Hashable, Codable {
    /// The rate a variant is judged by: messages with at least one such event over messages made.
    public enum Metric: String, Sendable, Hashable, Codable, CaseIterable {
        /// Messages with a click.
        case clicked
        /// Messages opened.
        case opened
    }

    /// Percent of the recipients in the test cohort (1–50), or nil when `sampleSize` is given.
    public var testPercent: Int?
    /// Recipients in the test cohort (at least 2 per variant), or nil when `testPercent` is given.
    public var sampleSize: Int?
    /// The rate that decides.
    public var metric: Metric
    /// Minutes from the last test message made to the decision (1 to 43,200, 30 days).
    public var decideAfterMinutes: Int
    /// When set, the decision may come earlier: once the test's messages together have this
    /// many conversions and the best variant is significantly better.
    public var minConversions: Int?
    /// The significance level α of the test (0.001 to 0.2), before the Bonferroni correction.
    public var significance: Double

    /// The default wait: four hours.
    public static let defaultDecideAfterMinutes = 240
    /// The default significance level.
    public static let defaultSignificance = 0.05

    enum CodingKeys: String, CodingKey {
        case metric, significance
        case testPercent = "test_percent"
        case sampleSize = "sample_size"
        case decideAfterMinutes = "decide_after_minutes"
        case minConversions = "min_conversions"
    }

    /// Creates a test; `validate` says whether it makes sense.
    public init(
        testPercent: Int? = nil, sampleSize: Int? = nil, metric: Metric = .clicked, decideAfterMinutes: Int = ABTest.defaultDecideAfterMinutes,
        minConversions: Int? = nil, significance: Double = ABTest.defaultSignificance
    ) {
        self.testPercent = testPercent
        self.sampleSize = sampleSize
        self.metric = metric
        self.decideAfterMinutes = decideAfterMinutes
        self.minConversions = minConversions
        self.significance = significance
    }

    /// Reads the API's object; every field but the cohort's size has a default.
    public init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["test_percent", "sample_size", "metric", "decide_after_minutes", "min_conversions", "significance"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        testPercent = try c.decodeIfPresent(Int.self, forKey: .testPercent)
        sampleSize = try c.decodeIfPresent(Int.self, forKey: .sampleSize)
        metric = try c.decodeIfPresent(Metric.self, forKey: .metric) ?? .clicked
        decideAfterMinutes = try c.decodeIfPresent(Int.self, forKey: .decideAfterMinutes) ?? Self.defaultDecideAfterMinutes
        minConversions = try c.decodeIfPresent(Int.self, forKey: .minConversions)
        significance = try c.decodeIfPresent(Double.self, forKey: .significance) ?? Self.defaultSignificance
    }

    /// Problems with the test for a campaign of `variants` variants, naming `ab_test.…` fields.
    /// Everything a campaign's test is checked for: its settings, its variants over `base`,
    /// and that its metric can be measured. Opens and clicks are tracked in the HTML part only,
    /// so the metric's tracking must be on and every variant must have an HTML part: a test
    /// that cannot see a conversion would pick the first variant on no data.
    public func validate(variants: [CampaignVariant], base: MessageTemplate, trackOpens: Bool, trackClicks: Bool) -> FieldError? {
        if let problem = CampaignVariant.validate(variants, base: base) ?? validate(variants: variants.count) { return problem }
        switch metric {
        case .clicked where !trackClicks:
            return FieldError(code: "invalid_value", field: "ab_test.metric", message: "metric clicked needs track_clicks: clicks are what the test counts")
        case .opened where !trackOpens:
            return FieldError(code: "invalid_value", field: "ab_test.metric", message: "metric opened needs track_opens: opens are what the test counts")
        default: break
        }
        for (index, variant) in variants.enumerated() where (variant.template(over: base).html ?? "").isEmpty {
            return FieldError(
                code: "invalid_value", field: "variants[\(index)].html",
                message: "an A/B test counts opens or clicks, which are tracked in the HTML part: every variant needs one")
        }
        return nil
    }

    public func validate(variants: Int) -> FieldError? {
        func invalid(_ field: String, _ message: String) -> FieldError { FieldError(code: "invalid_value", field: "ab_test.\(field)", message: message) }
        switch (testPercent, sampleSize) {
        case (nil, nil), (.some, .some): return invalid("test_percent", "give one of test_percent and sample_size")
        case (let percent?, nil) where !(1...50).contains(percent): return invalid("test_percent", "test_percent must be 1 to 50")
        case (nil, let size?) where size < 2 * variants || size > 10_000_000:
            return invalid("sample_size", "sample_size must be 2 per variant (\(2 * variants)) to 10,000,000")
        default: break
        }
        if !(1...43_200).contains(decideAfterMinutes) { return invalid("decide_after_minutes", "decide_after_minutes must be 1 to 43200 (30 days)") }
        if let minConversions, !(1...10_000_000).contains(minConversions) { return invalid("min_conversions", "min_conversions must be 1 to 10,000,000") }
        if !(0.001...0.2).contains(significance) { return invalid("significance", "significance must be 0.001 to 0.2") }
        return nil
    }

    /// The share of recipients in the test cohort (0 to 1), for a campaign of `recipients`.
    public func share(recipients: Int) -> Double {
        if let testPercent { return Double(testPercent) / 100 }
        guard let sampleSize, recipients > 0 else { return 0 }
        return min(1, Double(sampleSize) / Double(recipients))
    }

    /// The variant (0 ..< `variants`) a contact tests, or nil when it is not in the test cohort
    /// and gets the winner. Random, but a function of (campaign, contact) alone: SHA-256 of the
    /// two ids, its first 8 bytes read as a uniform fraction against `share` and the next 8
    /// choosing the variant, so a campaign resumed after a crash puts every contact where it was.
    public static func assignment(campaignID: UUID, contactID: UUID, share: Double, variants: Int) -> Int? {
        var bytes = [UInt8]()
        bytes.reserveCapacity(32)
        withUnsafeBytes(of: campaignID.uuid) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: contactID.uuid) { bytes.append(contentsOf: $0) }
        let digest = Array(SHA256.hash(data: bytes))
        let first = digest[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let second = digest[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        // The top 53 bits make a double in [0, 1) exactly.
        let fraction = Double(first >> 11) / Double(UInt64(1) << 53)
        guard fraction < share, variants > 0 else { return nil }
        return Int(second % UInt64(variants))
    }
}
