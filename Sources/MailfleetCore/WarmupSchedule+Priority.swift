import Foundation

/// Warm-up and the two lanes. Mailbox providers judge every message from a domain, so
/// transactional mail counts toward the day's count like bulk; but a password reset must not
/// wait a day, so only bulk is held by the cap. Transactional mail is counted first and bulk
/// gets what it leaves: on a day it fills the cap, that day's bulk waits for tomorrow.
extension WarmupSchedule {
    /// A cap no day's count reaches: the reservation of a message the cap never holds.
    public static let uncapped = 1 << 50

    /// The cap a message of `priority` is reserved under at `date`: today's cap for bulk,
    /// `uncapped` for transactional (counted, never held), nil once the domain is warm
    /// (nothing is counted any more).
    public func reservationCap(for priority: Priority, at date: Date, startedOn: Date) -> Int? {
        guard let cap = cap(at: date, startedOn: startedOn) else { return nil }
        return priority == .transactional ? Self.uncapped : cap
    }
}
