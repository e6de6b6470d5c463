import Foundation

/// A sliding window sender health is measured over, made of whole minutes.
public enum HealthWindow: String, Sendable, CaseIterable, Codable {
    /// The last hour: reacts quickly to a bad send.
    case hour = "1h"
    /// The last day: the period mailbox providers state their limits over.
    case day = "24h"

    /// The window's length in minutes.
    public var minutes: Int {
        switch self {
        case .hour: return 60
        case .day: return 24 * 60
        }
    }

    /// The first minute inside the window that ends with `minute` (minutes since 1970), so the
    /// window holds exactly `minutes` minute buckets, the current (partial) one included.
    public func firstMinute(endingAt minute: Int) -> Int { minute - minutes + 1 }

    /// The minute (since 1970) `date` falls in.
    public static func minute(of date: Date) -> Int { Int((date.timeIntervalSince1970 / 60).rounded(.down)) }
}
