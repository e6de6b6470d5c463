/// Comparison whose time does not depend on where strings differ.
public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. The time taken depends only on the longer
    /// length (the one a caller presents), not on where they differ nor on whether the lengths
    /// match, so a secret's length does not show either.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(truncatingIfNeeded: x.count ^ y.count) | (x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}
