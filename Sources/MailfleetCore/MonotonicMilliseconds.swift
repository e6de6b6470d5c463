/// Milliseconds since this value was made, on `ContinuousClock`: for the lease and outage
/// arithmetic of `Leadership` and `Outage`, which must not jump with the wall clock.
public struct MonotonicMilliseconds: Sendable {
    private let origin = ContinuousClock.now

    /// Starts counting now.
    public init() {}

    /// Milliseconds elapsed since `init`.
    public func nowMs() -> Int { (ContinuousClock.now - origin).wholeMilliseconds }
}

extension Duration {
    /// The duration in whole milliseconds, rounded toward zero.
    public var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
