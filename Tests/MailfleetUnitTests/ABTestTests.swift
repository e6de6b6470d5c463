import Foundation
import MailfleetCore
import Testing

/// The statistics of A/B tests against reference values computed apart from this code (scipy
/// 1.17: `norm.cdf`, `norm.ppf`, `binomtest(k, n).proportion_ci(method="wilson")`, and the
/// z-test and Wald interval written out by hand in Python from their textbook formulas), the
/// decision rule, and the cohort assignment.
@Suite("A/B tests")
struct ABTestTests {
    func close(_ a: Double, _ b: Double, _ tolerance: Double = 1e-9) -> Bool { abs(a - b) <= tolerance * max(1, abs(b)) }

    @Test func theNormalCDFMatchesScipy() {
        // scipy.stats.norm.cdf(x)
        let reference: [(Double, Double)] = [
            (-8, 6.22096057427174e-16), (-3, 0.0013498980316300933), (-1.96, 0.024997895148220435), (-1, 0.15865525393145707), (0, 0.5),
            (0.5, 0.6914624612740131), (1.6448536269514722, 0.95), (2.5, 0.9937903346742238), (5, 0.9999997133484281),
        ]
        for (x, p) in reference {
            // Relative precision in the far tail too: erfc keeps it where 1 − Φ would not.
            #expect(abs(ProportionTest.normalCDF(x) - p) <= 1e-12 * max(p, 1e-3), "Φ(\(x))")
        }
    }

    @Test func theNormalQuantileMatchesScipy() {
        // scipy.stats.norm.ppf(p)
        let reference: [(Double, Double)] = [
            (1e-6, -4.753424308822899), (0.001, -3.090232306167813), (0.025, -1.9599639845400545), (0.5, 0), (0.95, 1.6448536269514722),
            (0.975, 1.959963984540054), (0.9999, 3.719016485455709),
        ]
        for (p, x) in reference {
            #expect(abs(ProportionTest.normalQuantile(p) - x) < 1e-9, "Φ⁻¹(\(p))")
        }
    }

    @Test func theZTestMatchesAHandComputation() {
        // Python: p = (x1+x2)/(n1+n2); se = sqrt(p(1-p)(1/n1+1/n2)); z = (x1/n1 - x2/n2)/se;
        // p-value = 2 * scipy.stats.norm.sf(|z|).
        let reference: [(Int, Int, Int, Int, Double, Double)] = [
            (80, 1000, 50, 1000, 2.721095431170472, 0.00650659748363783),
            (120, 2000, 100, 2000, 1.3870839642941308, 0.1654161611641205),
            (31, 400, 12, 380, 2.8087491776688416, 0.004973437797836514),
        ]
        for (x1, n1, x2, n2, z, p) in reference {
            let test = ProportionTest.compare(x1, of: n1, with: x2, of: n2)
            #expect(close(test.z, z) && close(test.pValue, p, 1e-8), "\(x1)/\(n1) vs \(x2)/\(n2)")
            // The test is symmetric.
            let reversed = ProportionTest.compare(x2, of: n2, with: x1, of: n1)
            #expect(close(reversed.z, -z) && close(reversed.pValue, p, 1e-8))
        }
        // No data, or no spread: no evidence either way.
        let empty = ProportionTest.compare(0, of: 0, with: 3, of: 10)
        #expect(empty.z == 0 && empty.pValue == 1 && empty.difference == 0)
        #expect(ProportionTest.compare(0, of: 50, with: 0, of: 60).pValue == 1)
    }

    @Test func theIntervalsMatchTheReference() {
        // scipy binomtest(k, n).proportion_ci(confidence_level=1-alpha, method="wilson")
        let wilson: [(Int, Int, Double, Double, Double)] = [
            (50, 1000, 0.05, 0.03813026239274881, 0.06531382024425081), (80, 1000, 0.05, 0.06474803809836388, 0.09846643902950242),
            (0, 20, 0.05, 0, 0.16112515805281935), (12, 380, 0.025, 0.016800946253328845, 0.058581094260372474),
        ]
        for (k, n, alpha, lower, upper) in wilson {
            let interval = ProportionTest.wilson(k, of: n, alpha: alpha)
            #expect(abs(interval.lower - lower) < 1e-9 && abs(interval.upper - upper) < 1e-9, "\(k)/\(n)")
        }
        // Python: d = p1 - p2; h = norm.ppf(1 - alpha/2) * sqrt(p1(1-p1)/n1 + p2(1-p2)/n2); (d - h, d + h).
        let wald = ProportionTest.waldDifference(80, of: 1000, minus: 50, of: 1000, alpha: 0.05)
        #expect(abs(wald.lower - 0.008431489082784165) < 1e-9 && abs(wald.upper - 0.05156851091721583) < 1e-9)
        let corrected = ProportionTest.waldDifference(31, of: 400, minus: 12, of: 380, alpha: 0.025)
        #expect(abs(corrected.lower - 0.009834289209084808) < 1e-9 && abs(corrected.upper - 0.08200781605407309) < 1e-9)
        #expect(ProportionTest.wilson(0, of: 0, alpha: 0.05) == .init(lower: 0, upper: 1))
    }

    /// Clicks drawn at `rates`, `n` messages per variant.
    func simulate(_ rates: [Double], n: Int, using generator: inout SeededGenerator) -> ABTestResult {
        let clicks = rates.map { rate in (0..<n).reduce(0) { count, _ in count + (Double.random(in: 0..<1, using: &generator) < rate ? 1 : 0) } }
        return ABTestResult.evaluate(
            names: rates.indices.map(CampaignVariant.defaultName), sent: Array(repeating: n, count: rates.count), conversions: clicks, metric: .clicked,
            significance: 0.05)
    }

    @Test func simulatedClicksAtFiveAndEightPercentAreSignificantAndAtEqualRatesAreNot() {
        var generator = SeededGenerator(state: 2026)
        let different = simulate([0.05, 0.08], n: 1000, using: &generator)
        #expect(different.best == 1 && different.significant)
        let same = simulate([0.05, 0.05], n: 1000, using: &generator)
        #expect(!same.significant)
        // Over many seeded runs: about α of the equal-rate tests are significant (a true
        // rate of 5 %: 400 runs make 2 % to 9 % very likely), and most of the unequal ones
        // (the expected z is 2.7, a power near 77 %).
        var falsePositives = 0, detected = 0
        for _ in 0..<400 {
            if simulate([0.05, 0.05], n: 1000, using: &generator).significant { falsePositives += 1 }
            let result = simulate([0.05, 0.08], n: 1000, using: &generator)
            if result.significant && result.best == 1 { detected += 1 }
        }
        #expect((8...36).contains(falsePositives), "\(falsePositives) of 400")
        #expect(detected >= 260, "\(detected) of 400")
    }

    @Test func theBestIsComparedWithEveryOtherAtABonferroniLevel() {
        // Three variants: α/2 = 0.025 per comparison. C beats A clearly (z 2.81, p 0.005) and
        // B only with p 0.08 (above 0.025), so it is not significantly better than all.
        let result = ABTestResult.evaluate(
            names: ["A", "B", "C"], sent: [380, 2000, 400], conversions: [12, 110, 31], metric: .clicked, significance: 0.05)
        #expect(result.best == 2 && result.comparisonSignificance == 0.025)
        #expect(result.variants[2].z == nil && result.variants[0].significant == true)
        #expect(close(result.variants[0].z!, 2.8087491776688416))
        #expect(abs(result.variants[0].differenceInterval!.lower - 0.009834289209084808) < 1e-9)
        let againstB = ProportionTest.compare(31, of: 400, with: 110, of: 2000)
        #expect(againstB.pValue > 0.025 && againstB.pValue < 0.2 && result.variants[1].significant == false)
        #expect(!result.significant)
        // Ties go to the first variant.
        #expect(ABTestResult.evaluate(names: ["A", "B"], sent: [10, 10], conversions: [1, 1], metric: .opened, significance: 0.05).best == 0)
    }

    @Test func theDecisionWaitsForTheDeadlineUnlessAnEarlySampleIsSignificant() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let strong = ABTestResult.evaluate(names: ["A", "B"], sent: [1000, 1000], conversions: [50, 80], metric: .clicked, significance: 0.05)
        let weak = ABTestResult.evaluate(names: ["A", "B"], sent: [2000, 2000], conversions: [100, 120], metric: .clicked, significance: 0.05)
        let test = ABTest(testPercent: 20, minConversions: 100)
        // Before the deadline: only a significant result with the sample reached.
        #expect(ABDecision.decide(weak, test: test, deadlineReached: false, now: now) == nil)
        #expect(ABDecision.decide(strong, test: ABTest(testPercent: 20, minConversions: 200), deadlineReached: false, now: now) == nil)
        #expect(ABDecision.decide(strong, test: ABTest(testPercent: 20), deadlineReached: false, now: now) == nil)
        let early = ABDecision.decide(strong, test: test, deadlineReached: false, now: now)
        #expect(early?.winnerName == "B" && early?.rule == .significant && early?.decidedAt == ISO8601.format(now))
        // At the deadline the highest rate wins, significant or not.
        let late = ABDecision.decide(weak, test: test, deadlineReached: true, now: now)
        #expect(late?.winner == 1 && late?.rule == .highestRate)
    }

    @Test func everyContactHasOneFixedPlaceAndTheCohortIsTheShareSplitEvenly() {
        let campaign = UUID()
        let contacts = (0..<20_000).map { _ in UUID() }
        var perVariant = [0, 0, 0]
        for contact in contacts {
            let assigned = ABTest.assignment(campaignID: campaign, contactID: contact, share: 0.2, variants: 3)
            // The same answer every time: a resumed campaign puts the contact where it was.
            #expect(assigned == ABTest.assignment(campaignID: campaign, contactID: contact, share: 0.2, variants: 3))
            if let assigned { perVariant[assigned] += 1 }
        }
        // 20 % of 20,000 is 4,000 (σ ≈ 57); each variant a third (σ ≈ 42).
        #expect(abs(perVariant.reduce(0, +) - 4000) < 300, "\(perVariant)")
        #expect(perVariant.allSatisfy { abs($0 - 1333) < 220 }, "\(perVariant)")
        // Another campaign draws another cohort; a share of 0 or 1 takes nobody or everybody.
        let other = UUID()
        let moved = contacts.prefix(2000).filter {
            (ABTest.assignment(campaignID: campaign, contactID: $0, share: 0.2, variants: 3) == nil)
                != (ABTest.assignment(campaignID: other, contactID: $0, share: 0.2, variants: 3) == nil)
        }
        #expect(moved.count > 400)
        #expect(contacts.allSatisfy { ABTest.assignment(campaignID: campaign, contactID: $0, share: 0, variants: 2) == nil })
        #expect(contacts.allSatisfy { ABTest.assignment(campaignID: campaign, contactID: $0, share: 1, variants: 2) != nil })
        // A fixed sample is a share of the recipients counted at the start.
        #expect(ABTest(sampleSize: 500).share(recipients: 2000) == 0.25 && ABTest(sampleSize: 500).share(recipients: 100) == 1)
    }

    @Test func settingsAndVariantsAreValidatedWithTheirFields() throws {
        let base = MessageTemplate(subject: "Hi", text: "t", html: nil)
        #expect(ABTest(testPercent: 20).validate(variants: 2) == nil)
        #expect(ABTest().validate(variants: 2)?.field == "ab_test.test_percent")
        #expect(ABTest(testPercent: 20, sampleSize: 100).validate(variants: 2)?.field == "ab_test.test_percent")
        #expect(ABTest(testPercent: 51).validate(variants: 2)?.field == "ab_test.test_percent")
        #expect(ABTest(sampleSize: 5).validate(variants: 3)?.field == "ab_test.sample_size")
        #expect(ABTest(testPercent: 10, decideAfterMinutes: 0).validate(variants: 2)?.field == "ab_test.decide_after_minutes")
        #expect(ABTest(testPercent: 10, significance: 0.5).validate(variants: 2)?.field == "ab_test.significance")
        #expect(ABTest(testPercent: 10, minConversions: 0).validate(variants: 2)?.field == "ab_test.min_conversions")
        let decoded = try JSONDecoder().decode(ABTest.self, from: Data(#"{"test_percent":10,"metric":"opened"}"#.utf8))
        #expect(decoded == ABTest(testPercent: 10, metric: .opened))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ABTest.self, from: Data(#"{"test_percent":10,"metrc":"opened"}"#.utf8)) }

        let a = CampaignVariant(name: "A", subject: "Hello"), b = CampaignVariant(name: "B", text: "{{#x}}", from: try EmailAddress(email: "b@example.com"))
        #expect(CampaignVariant.validate([a], base: base)?.field == "variants")
        #expect(CampaignVariant.validate([a, a], base: base)?.field == "variants[1].name")
        #expect(CampaignVariant.validate([a, b], base: base)?.field?.hasPrefix("variants[1].") == true)
        #expect(CampaignVariant.validate([a, CampaignVariant(name: "B", subject: "x\ny")], base: base)?.field == "variants[1].subject")
        // A variant's content replaces both parts; its subject and sender only themselves.
        #expect(CampaignVariant(name: "C", html: "<p>h</p>").template(over: base) == MessageTemplate(subject: "Hi", text: nil, html: "<p>h</p>"))
        // Stored and read back alike, the sender as text.
        let stored = try JSONEncoder().encode([b])
        #expect(try JSONDecoder().decode([CampaignVariant].self, from: stored) == [b])
    }

    @Test func aVariantsMessageHasItsSubjectSenderAndName() throws {
        let campaign = Campaign(
            id: UUID(), tenantID: UUID(), name: "n", listID: UUID(), template: MessageTemplate(subject: "Base {{name}}", text: "t", html: nil),
            from: try EmailAddress(email: "news@example.com"),
            variants: [CampaignVariant(name: "A"), CampaignVariant(name: "B", subject: "Other {{name}}", from: try EmailAddress(email: "ceo@example.com"))],
            abTest: ABTest(testPercent: 10))
        let recipient = CampaignRecipient(contactID: UUID(), email: "ann@example.com", attributes: .object(["name": .string("Ann")]), timeZone: nil)
        let submission = try #require(campaign.submission(for: recipient, variant: 1, now: Date()))
        #expect(submission.content.from.email == "ceo@example.com" && submission.content.metadata["ab_variant"] == "B")
        let plan = SubmissionPlan(
            items: [.success(submission)], isBatch: true, tenantID: campaign.tenantID, templates: campaign.variantTemplates, limits: MessageLimits(), now: Date())
        #expect(plan.messages.first?.content.subject == "Other Ann")
        #expect(campaign.submission(for: recipient, variant: 2, now: Date()) == nil)
    }
}
