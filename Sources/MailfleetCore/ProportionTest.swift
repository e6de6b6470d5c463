import Foundation

/// The statistics of an A/B test on conversion rates: the standard normal distribution, the
/// two-proportion z-test (pooled standard error), the Wilson interval of one rate and the
/// Wald interval of a difference of two. Pure functions, checked against scipy's values.
public enum ProportionTest {
    /// Φ(x), the standard normal CDF, through erfc so the tails keep their precision.
    public static func normalCDF(_ x: Double) -> Double {
        0.5 * erfc(-x / 2.0.squareRoot())
    }

    /// The x with Φ(x) = `p` (0 < p < 1): Acklam's rational approximation (relative error
    /// below 1.2e-9), refined by one Halley step on `normalCDF`.
    public static func normalQuantile(_ p: Double) -> Double {
        precondition(p > 0 && p < 1, "a quantile needs 0 < p < 1")
        let a = [-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02, 1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00]
        let b = [-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02, 6.680131188771972e+01, -1.328068155288572e+01]
        let c = [-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00, -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00]
        let d = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00]
        let low = 0.02425
        var x: Double
        if p < low {
            let q = (-2 * log(p)).squareRoot()
            x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        } else if p <= 1 - low {
            let q = p - 0.5, r = q * q
            x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
        } else {
            let q = (-2 * log(1 - p)).squareRoot()
            x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        let e = normalCDF(x) - p
        let u = e * (2 * Double.pi).squareRoot() * exp(x * x / 2)
        x -= u / (1 + x * u / 2)
        return x
    }

    /// A two-sided interval.
    public struct Interval: Sendable, Hashable, Codable {
        public var lower: Double
        public var upper: Double

        /// Creates an interval.
        public init(lower: Double, upper: Double) {
            self.lower = lower
            self.upper = upper
        }
    }

    /// The outcome of one two-proportion z-test.
    public struct Comparison: Sendable, Hashable {
        /// (x1/n1 − x2/n2) over the pooled standard error; 0 when that error is 0.
        public var z: Double
        /// The two-sided p-value, 2·(1 − Φ(|z|)).
        public var pValue: Double
        /// x1/n1 − x2/n2.
        public var difference: Double
    }

    /// The two-proportion z-test of x1 of n1 against x2 of n2 under H0 p1 = p2, with the pooled
    /// standard error √(p̂(1−p̂)(1/n1 + 1/n2)), p̂ = (x1+x2)/(n1+n2). With no data or no spread
    /// (every or no trial a conversion) there is no evidence: z = 0, p = 1.
    public static func compare(_ x1: Int, of n1: Int, with x2: Int, of n2: Int) -> Comparison {
        guard n1 > 0, n2 > 0 else { return Comparison(z: 0, pValue: 1, difference: 0) }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let pooled = Double(x1 + x2) / Double(n1 + n2)
        let se = (pooled * (1 - pooled) * (1 / Double(n1) + 1 / Double(n2))).squareRoot()
        guard se > 0 else { return Comparison(z: 0, pValue: 1, difference: p1 - p2) }
        let z = (p1 - p2) / se
        return Comparison(z: z, pValue: erfc(abs(z) / 2.0.squareRoot()), difference: p1 - p2)
    }

    /// The Wilson score interval of x of n at confidence 1 − `alpha`; [0, 1] with no data.
    public static func wilson(_ x: Int, of n: Int, alpha: Double) -> Interval {
        guard n > 0 else { return Interval(lower: 0, upper: 1) }
        let z = normalQuantile(1 - alpha / 2), nd = Double(n), p = Double(x) / nd
        let denominator = 1 + z * z / nd
        let centre = (p + z * z / (2 * nd)) / denominator
        let half = z * (p * (1 - p) / nd + z * z / (4 * nd * nd)).squareRoot() / denominator
        return Interval(lower: max(0, centre - half), upper: min(1, centre + half))
    }

    /// The Wald interval of x1/n1 − x2/n2 at confidence 1 − `alpha`, with the unpooled
    /// standard error √(p1(1−p1)/n1 + p2(1−p2)/n2); [−1, 1] with no data.
    public static func waldDifference(_ x1: Int, of n1: Int, minus x2: Int, of n2: Int, alpha: Double) -> Interval {
        guard n1 > 0, n2 > 0 else { return Interval(lower: -1, upper: 1) }
        let p1 = Double(x1) / Double(n1), p2 = Double(x2) / Double(n2)
        let half = normalQuantile(1 - alpha / 2) * (p1 * (1 - p1) / Double(n1) + p2 * (1 - p2) / Double(n2)).squareRoot()
        return Interval(lower: max(-1, p1 - p2 - half), upper: min(1, p1 - p2 + half))
    }
}
