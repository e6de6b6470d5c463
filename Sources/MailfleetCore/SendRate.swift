/// A fleet-wide send rate: GCRA (the generic cell rate algorithm) that takes several tokens at
/// once and says how many it admitted and when the next one is free. The only state is the
/// theoretical arrival time (TAT) in epoch microseconds; integers throughout, so the Lua twin
/// in Redis (`SendLimiter`) does exactly the same arithmetic and a test checks them against
/// each other.
public struct SendRate: Sendable, Equatable, Hashable {
    /// Tokens per second (messages, or calls).
    public var perSecond: Int
    /// Tokens that may go at once after a quiet spell.
    public var burst: Int

    /// The burst a rate gets unless told: a quarter second's worth (at least 1). Small enough
    /// that a provider counting per second never sees much over its limit after a pause, large
    /// enough that three workers taking turns do not leave tokens unused between their rounds.
    public static func defaultBurst(_ perSecond: Int) -> Int { max(1, perSecond / 4) }

    /// Creates a rate; both values are at least 1.
    public init(perSecond: Int, burst: Int? = nil) {
        self.perSecond = max(1, perSecond)
        self.burst = max(1, burst ?? Self.defaultBurst(self.perSecond))
    }

    /// Microseconds between tokens at the sustained rate (rounded down: at most a millionth fast).
    public var intervalUs: Int { max(1, 1_000_000 / perSecond) }

    /// How far the TAT may run ahead of now.
    public var toleranceUs: Int { burst * intervalUs }

    /// The answer to asking for `wanted` tokens at `nowUs` with stored TAT `tatUs` (nil: none)
    /// and booking `bookedUs` (nil: none). Tokens not admitted are booked: the time they will
    /// take is added after what earlier holds booked, so the messages held by every worker
    /// wake in turn rather than all at the next free token. A booking only times wake-ups;
    /// a woken message takes its token like any other.
    public func take(_ wanted: Int, nowUs: Int, tatUs: Int?, bookedUs: Int? = nil) -> SendRateDecision {
        let interval = intervalUs
        let tat = max(tatUs ?? nowUs, nowUs)
        let room = nowUs + toleranceUs - tat
        let admitted = room < 0 ? 0 : min(max(0, wanted), room / interval)
        let newTAT = tat + admitted * interval
        // The next token is free when the TAT, one interval on, is back within the tolerance.
        let nextFreeUs = max(0, newTAT + interval - toleranceUs - nowUs)
        let held = max(0, wanted) - admitted
        // A booking that has passed is none.
        let booked = (bookedUs ?? 0) > nowUs ? bookedUs ?? 0 : 0
        guard held > 0 else {
            return SendRateDecision(admitted: admitted, tatUs: newTAT, nextFreeUs: nextFreeUs, heldWaitUs: nextFreeUs, bookedUs: booked)
        }
        let start = max(booked, newTAT)
        return SendRateDecision(
            admitted: admitted, tatUs: newTAT, nextFreeUs: nextFreeUs, heldWaitUs: max(0, start + interval - toleranceUs - nowUs),
            bookedUs: start + held * interval)
    }

    /// The TAT after `count` tokens taken earlier were not used after all: moved back, never
    /// before now (a bucket cannot hold more than its burst).
    public func giveBack(_ count: Int, nowUs: Int, tatUs: Int?) -> Int {
        max(nowUs, (tatUs ?? nowUs) - max(0, count) * intervalUs)
    }
}

/// What `SendRate.take` answered.
public struct SendRateDecision: Sendable, Equatable {
    /// Tokens admitted, from 0 to the number asked for.
    public var admitted: Int
    /// The TAT to store.
    public var tatUs: Int
    /// Microseconds from now until one more token is free (0 when one is free now).
    public var nextFreeUs: Int
    /// Microseconds from now until the first token not admitted is due, after earlier bookings.
    public var heldWaitUs: Int
    /// The booking to store (epoch µs; 0 when none).
    public var bookedUs: Int

    /// Creates a decision.
    public init(admitted: Int, tatUs: Int, nextFreeUs: Int, heldWaitUs: Int? = nil, bookedUs: Int = 0) {
        self.admitted = admitted
        self.tatUs = tatUs
        self.nextFreeUs = nextFreeUs
        self.heldWaitUs = heldWaitUs ?? nextFreeUs
        self.bookedUs = bookedUs
    }
}
