/// What the simulator keeps about each message beyond its counters. Counters alone keep its
/// memory flat however many messages arrive; each level up keeps more per message.
public enum SimulatorRecording: String, Sendable, CaseIterable, Codable, Comparable {
    /// Counters only (`GET /_stats` without `unique_messages` and `duplicate_deliveries`).
    case counters
    /// Also the first arrival time of each message id: what time-to-provider figures need
    /// (`GET /_arrivals`), and what tells a duplicate from a first delivery.
    case arrivals
    /// Also the deliveries of each message id (`GET /_messages/{id}`) and the variables each
    /// recipient was sent with (`GET /_recipients`).
    case all

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
