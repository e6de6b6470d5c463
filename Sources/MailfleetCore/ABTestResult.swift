import Foundation

/// Where an A/B test stands: each variant's rate with its Wilson interval, and the best
/// variant (highest rate; the first of equals) compared with each other one by a
/// two-proportion z-test. Several comparisons share α by Bonferroni: each is tested at
/// α / (variants − 1), and its difference interval has that confidence too.
public struct ABTestResult: Sendable, Hashable, Codable {
    /// One variant's counts and, for every variant but the best, its comparison with the best.
    public struct Arm: Sendable, Hashable, Codable {
        public var name: String
        /// Messages made for it in the test cohort.
        public var sent: Int
        /// Those with the metric's event.
        public var conversions: Int
        /// conversions / sent (0 with none sent).
        public var rate: Double
        /// Wilson interval of the rate at confidence 1 − α.
        public var interval: ProportionTest.Interval
        /// z of best − this (pooled standard error); nil for the best.
        public var z: Double?
        /// Two-sided p-value of that z; nil for the best.
        public var pValue: Double?
        /// The best's rate minus this one's; nil for the best.
        public var difference: Double?
        /// Wald interval of that difference at confidence 1 − α/(variants − 1); nil for the best.
        public var differenceInterval: ProportionTest.Interval?
        /// Whether p < α/(variants − 1); nil for the best.
        public var significant: Bool?

        enum CodingKeys: String, CodingKey {
            case name, sent, conversions, rate, interval, z, difference, significant
            case pValue = "p_value"
            case differenceInterval = "difference_interval"
        }
    }

    /// The rate compared.
    public var metric: ABTest.Metric
    /// α as the test states it.
    public var significance: Double
    /// α / (variants − 1), the level of each comparison.
    public var comparisonSignificance: Double
    /// The index of the best variant.
    public var best: Int
    /// Whether the best is significantly better than every other variant.
    public var significant: Bool
    /// Every variant, in the campaign's order.
    public var variants: [Arm]

    enum CodingKeys: String, CodingKey {
        case metric, significance, best, significant, variants
        case comparisonSignificance = "comparison_significance"
    }

    /// Evaluates counts per variant (`sent[i]` messages, `conversions[i]` of them converted).
    public static func evaluate(names: [String], sent: [Int], conversions: [Int], metric: ABTest.Metric, significance alpha: Double) -> ABTestResult {
        precondition(names.count == sent.count && sent.count == conversions.count && !names.isEmpty, "one count per variant")
        let rates = zip(conversions, sent).map { $1 > 0 ? Double($0) / Double($1) : 0 }
        var best = 0
        for index in rates.indices where rates[index] > rates[best] { best = index }
        let corrected = alpha / Double(max(1, names.count - 1))
        var arms: [Arm] = []
        var everyOther = names.count > 1
        for index in names.indices {
            var arm = Arm(
                name: names[index], sent: sent[index], conversions: conversions[index], rate: rates[index],
                interval: ProportionTest.wilson(conversions[index], of: sent[index], alpha: alpha))
            if index != best {
                let comparison = ProportionTest.compare(conversions[best], of: sent[best], with: conversions[index], of: sent[index])
                arm.z = comparison.z
                arm.pValue = comparison.pValue
                arm.difference = comparison.difference
                arm.differenceInterval = ProportionTest.waldDifference(conversions[best], of: sent[best], minus: conversions[index], of: sent[index], alpha: corrected)
                arm.significant = comparison.z > 0 && comparison.pValue < corrected
                everyOther = everyOther && arm.significant == true
            }
            arms.append(arm)
        }
        return ABTestResult(metric: metric, significance: alpha, comparisonSignificance: corrected, best: best, significant: everyOther, variants: arms)
    }
}

/// The decision of an A/B test, recorded with the campaign in the transaction that lets the
/// rest of its recipients be made, so a crash can never change the winner.
public struct ABDecision: Sendable, Hashable, Codable {
    /// Why the winner won.
    public enum Rule: String, Sendable, Hashable, Codable, CaseIterable {
        /// It was significantly better than every other variant.
        case significant
        /// Nothing was significant by the deadline: the highest rate (the first of equals) is kept.
        case highestRate = "highest_rate"
    }

    /// The index of the winning variant.
    public var winner: Int
    /// Its name.
    public var winnerName: String
    public var rule: Rule
    /// When it was decided (RFC 3339).
    public var decidedAt: String
    /// The counts and statistics it was decided on.
    public var result: ABTestResult

    enum CodingKeys: String, CodingKey {
        case winner, rule, result
        case winnerName = "winner_name"
        case decidedAt = "decided_at"
    }

    /// The decision on `result`, or nil while the test should go on: at the deadline the best
    /// variant wins, significant or not; before it, only once the test has `minConversions`
    /// conversions in all and the best is significantly better than every other.
    public static func decide(_ result: ABTestResult, test: ABTest, deadlineReached: Bool, now: Date) -> ABDecision? {
        let conversions = result.variants.reduce(0) { $0 + $1.conversions }
        let early = test.minConversions.map { conversions >= $0 } ?? false
        guard deadlineReached || (early && result.significant) else { return nil }
        return ABDecision(
            winner: result.best, winnerName: result.variants[result.best].name, rule: result.significant ? .significant : .highestRate,
            decidedAt: ISO8601.format(now), result: result)
    }
}
