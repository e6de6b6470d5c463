import Foundation

extension QuotaLedger {
    /// Admits the longest run of items from the start of `costs` (messages each, most urgent
    /// first) that every period still takes, and counts it. Returns how many items it admitted
    /// and, when some are left over, the refusal that says until when the rest must wait. A
    /// sender of many small requests (a sequence runner's pass) uses it so that a quota smaller
    /// than its batch sends what it leaves instead of nothing.
    public mutating func admitPrefix(_ costs: [Int]) -> (admitted: Int, refusal: QuotaRefusal?) {
        let allowance = remaining ?? Int.max
        var total = 0
        var count = 0
        for cost in costs {
            guard total + cost <= allowance else { break }
            total += cost
            count += 1
        }
        _ = admit(total)
        guard count < costs.count else { return (count, nil) }
        // Not counted: asking for the rest only finds the period that refuses it.
        var probe = self
        return (count, probe.admit(max(1, costs[count...].reduce(0, +))))
    }
}
