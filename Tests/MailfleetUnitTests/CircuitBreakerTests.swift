import MailfleetCore
import Testing

@Suite struct CircuitBreakerTests {
    /// Small numbers so every rule shows in a few calls.
    static let small = CircuitBreaker.Configuration(
        windowSize: 4, minimumCalls: 3, failureRatePercent: 50, slowCallMs: 100, openBaseMs: 1_000, openMaxMs: 8_000,
        halfOpenProbes: 2, probeTimeoutMs: 500)

    /// A breaker tripped open at `atMs` (its first trip).
    static func tripped(atMs: Int = 0) -> CircuitBreaker {
        var breaker = CircuitBreaker(configuration: small)
        for _ in 0..<2 { breaker.record(.failure, durationMs: 1, nowMs: atMs) }
        #expect(breaker.record(.failure, durationMs: 1, nowMs: atMs) == .init(from: .closed, to: .open, atMs: atMs))
        return breaker
    }

    @Test func theDefaultsAreTheDocumentedOnes() {
        let c = CircuitBreaker.Configuration()
        #expect(c.windowSize == 20)
        #expect(c.minimumCalls == 5)
        #expect(c.failureRatePercent == 50)
        #expect(c.slowCallMs == 10_000)
        #expect(c.openBaseMs == 5_000)
        #expect(c.openMaxMs == 300_000)
        #expect(c.halfOpenProbes == 3)
        #expect(c.probeTimeoutMs == 30_000)
        #expect(CircuitBreaker().state == CircuitBreaker.State())
        #expect(CircuitBreaker().state.phase == .closed)
    }

    @Test func configurationValuesAreClampedToWhatTheMachineCanUse() {
        let c = CircuitBreaker.Configuration(
            windowSize: 2, minimumCalls: 0, failureRatePercent: 150, slowCallMs: 0, openBaseMs: 0, openMaxMs: -5,
            halfOpenProbes: 0, probeTimeoutMs: 0)
        #expect(c.minimumCalls == 1)
        #expect(c.windowSize == 2)
        #expect(c.failureRatePercent == 100)
        #expect(c.slowCallMs == 1 && c.openBaseMs == 1 && c.openMaxMs == 1 && c.halfOpenProbes == 1 && c.probeTimeoutMs == 1)
        // The window always holds at least the minimum number of calls, or it could never trip.
        #expect(CircuitBreaker.Configuration(windowSize: 3, minimumCalls: 10).windowSize == 10)
        #expect(CircuitBreaker.Configuration(failureRatePercent: 0).failureRatePercent == 1)
    }

    @Test func closedLetsEveryCallThroughAndNeverTripsBelowTheMinimumNumberOfCalls() {
        var breaker = CircuitBreaker(configuration: Self.small)
        #expect(breaker.mayCall(nowMs: 0) == .init(decision: .call))
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 1) == nil)
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 2) == nil)
        // Two failures out of two is 100%, but fewer than three calls.
        #expect(breaker.state.phase == .closed)
        #expect(breaker.state.window == [true, true])
        #expect(breaker.mayCall(nowMs: 3) == .init(decision: .call))
        // The third call reaches the minimum: it trips, opening for the base period.
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 4) == .init(from: .closed, to: .open, atMs: 4))
        #expect(breaker.state == CircuitBreaker.State(phase: .open, trips: 1, openUntilMs: 1_004, changedAtMs: 4))
    }

    @Test func itTripsAtTheFailureRateAndNotBelowIt() {
        // 1 failure in 3 calls (33%) stays closed; the 4th call, a failure, makes 2 in 4 (50%).
        var breaker = CircuitBreaker(configuration: Self.small)
        breaker.record(.success, durationMs: 1, nowMs: 0)
        breaker.record(.failure, durationMs: 1, nowMs: 0)
        #expect(breaker.record(.success, durationMs: 1, nowMs: 0) == nil)
        #expect(breaker.state.phase == .closed)
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 7) == .init(from: .closed, to: .open, atMs: 7))

        // At 60% with a threshold of 61%, it stays closed; at 61% or 60% with a 60% threshold, it trips.
        for (rate, trips) in [(61, false), (60, true)] {
            var b = CircuitBreaker(configuration: .init(windowSize: 5, minimumCalls: 5, failureRatePercent: rate))
            for outcome: CircuitBreaker.Outcome in [.failure, .success, .failure, .success] { b.record(outcome, durationMs: 1, nowMs: 0) }
            #expect((b.record(.failure, durationMs: 1, nowMs: 0) != nil) == trips)
        }
    }

    @Test func theWindowSlidesSoOldFailuresStopCounting() {
        var breaker = CircuitBreaker(configuration: Self.small)
        // F S S S: 25%, closed. Then S pushes the failure out: S S S S.
        for outcome: CircuitBreaker.Outcome in [.failure, .success, .success, .success] { breaker.record(outcome, durationMs: 1, nowMs: 0) }
        #expect(breaker.state.window == [true, false, false, false])
        breaker.record(.success, durationMs: 1, nowMs: 0)
        #expect(breaker.state.window == [false, false, false, false])
        // One failure more is 25%, a second 50%: trips on the second.
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 0) == nil)
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 0)?.to == .open)
    }

    @Test func slowCallsCountAsFailuresEvenWhenTheySucceed() {
        var breaker = CircuitBreaker(configuration: Self.small)
        breaker.record(.success, durationMs: 99, nowMs: 0)
        #expect(breaker.state.window == [false])
        breaker.record(.success, durationMs: 100, nowMs: 0)
        breaker.record(.success, durationMs: 5_000, nowMs: 0)
        #expect(breaker.state.phase == .open)
        #expect(breaker.state.trips == 1)

        // In half-open, a slow probe re-opens it like a failed one.
        var probing = Self.tripped()
        #expect(probing.mayCall(nowMs: 1_000).decision == .probe)
        #expect(probing.record(.success, durationMs: 100, nowMs: 1_100) == .init(from: .halfOpen, to: .open, atMs: 1_100))
    }

    @Test func openRefusesUntilItsPeriodEndsThenHalfOpensWithAProbe() {
        var breaker = Self.tripped(atMs: 10)
        #expect(breaker.mayCall(nowMs: 10) == .init(decision: .refuse(retryAtMs: 1_010)))
        #expect(breaker.mayCall(nowMs: 1_009) == .init(decision: .refuse(retryAtMs: 1_010)))
        #expect(breaker.state.phase == .open)
        #expect(breaker.mayCall(nowMs: 1_010) == .init(decision: .probe, transition: .init(from: .open, to: .halfOpen, atMs: 1_010)))
        #expect(breaker.state == CircuitBreaker.State(phase: .halfOpen, trips: 1, probesGranted: 1, lastProbeAtMs: 1_010, changedAtMs: 1_010))
    }

    @Test func outcomesOfCallsStartedBeforeTheTripChangeNothingWhileOpen() {
        var breaker = Self.tripped()
        let before = breaker.state
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 5) == nil)
        #expect(breaker.record(.success, durationMs: 1, nowMs: 6) == nil)
        #expect(breaker.state == before)
    }

    @Test func halfOpenGivesOutAFixedNumberOfProbesAndClosesWhenAllSucceed() {
        var breaker = Self.tripped()
        #expect(breaker.mayCall(nowMs: 1_000).decision == .probe)
        #expect(breaker.mayCall(nowMs: 1_001) == .init(decision: .probe))
        // Both probes are out: further calls wait for them (or for their timeout).
        #expect(breaker.mayCall(nowMs: 1_002) == .init(decision: .refuse(retryAtMs: 1_501)))
        #expect(breaker.record(.success, durationMs: 10, nowMs: 1_010) == nil)
        #expect(breaker.state.phase == .halfOpen)
        #expect(breaker.state.probeSuccesses == 1)
        #expect(breaker.record(.success, durationMs: 10, nowMs: 1_020) == .init(from: .halfOpen, to: .closed, atMs: 1_020))
        #expect(breaker.state == CircuitBreaker.State(phase: .closed, changedAtMs: 1_020))
        #expect(breaker.mayCall(nowMs: 1_021) == .init(decision: .call))
    }

    @Test func aFailedProbeReopensForLongerAndASuccessfulCloseResetsThePeriod() {
        var breaker = Self.tripped()
        var opens: [Int] = []
        var now = 0
        // Each failed probe doubles the period: 1 s, 2 s, 4 s, 8 s, then the cap holds it at 8 s.
        for _ in 0..<5 {
            opens.append(breaker.state.openUntilMs - now)
            now = breaker.state.openUntilMs
            #expect(breaker.mayCall(nowMs: now).transition == .init(from: .open, to: .halfOpen, atMs: now))
            #expect(breaker.record(.failure, durationMs: 1, nowMs: now) == .init(from: .halfOpen, to: .open, atMs: now))
        }
        #expect(opens == [1_000, 2_000, 4_000, 8_000, 8_000])
        #expect(breaker.state.trips == 6)

        // Closing resets the growth: the next trip opens for the base period again.
        now = breaker.state.openUntilMs
        for _ in 0..<2 { #expect(breaker.mayCall(nowMs: now).decision == .probe) }
        breaker.record(.success, durationMs: 1, nowMs: now)
        #expect(breaker.record(.success, durationMs: 1, nowMs: now)?.to == .closed)
        #expect(breaker.state.trips == 0)
        for _ in 0..<3 { breaker.record(.failure, durationMs: 1, nowMs: now) }
        #expect(breaker.state.phase == .open)
        #expect(breaker.state.openUntilMs - now == 1_000)
    }

    @Test func theOpenPeriodDoublesUpToTheCapWithoutOverflowing() {
        let c = CircuitBreaker.Configuration()
        #expect((1...9).map { c.openPeriodMs(trips: $0) } == [5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000])
        #expect(c.openPeriodMs(trips: Int.max) == 300_000)
        #expect(c.openPeriodMs(trips: 0) == 5_000)
        // A cap that is not a power-of-two multiple of the base is reached exactly.
        let odd = CircuitBreaker.Configuration(openBaseMs: 3, openMaxMs: 10)
        #expect((1...4).map { odd.openPeriodMs(trips: $0) } == [3, 6, 10, 10])
    }

    @Test func whileEveryProbeIsOutACallerAsksAgainWithinASecondNotAtTheProbeTimeout() {
        var breaker = CircuitBreaker(configuration: .init(minimumCalls: 1, openBaseMs: 1_000, halfOpenProbes: 1))
        #expect(breaker.record(.failure, durationMs: 1, nowMs: 0)?.to == .open)
        #expect(breaker.mayCall(nowMs: 1_000).decision == .probe)
        // The probe is out, with a 30 s timeout: a refused batch waits a second, not 30.
        #expect(breaker.mayCall(nowMs: 1_200) == .init(decision: .refuse(retryAtMs: 1_200 + CircuitBreaker.halfOpenRecheckMs)))
        #expect(breaker.record(.success, durationMs: 5, nowMs: 1_300)?.to == .closed)
        #expect(breaker.mayCall(nowMs: 2_200) == .init(decision: .call))
    }

    @Test func probesThatAreNeverReportedAreGivenOutAgainAfterTheProbeTimeout() {
        var breaker = Self.tripped()
        #expect(breaker.mayCall(nowMs: 1_000).decision == .probe)
        #expect(breaker.record(.success, durationMs: 1, nowMs: 1_050) == nil)
        #expect(breaker.mayCall(nowMs: 1_100).decision == .probe)
        // The second probe's worker died: no answer. Until the timeout, calls wait.
        #expect(breaker.mayCall(nowMs: 1_599) == .init(decision: .refuse(retryAtMs: 1_600)))
        // Then its slot is given out again; the success already counted stays counted.
        #expect(breaker.mayCall(nowMs: 1_600) == .init(decision: .probe))
        #expect(breaker.state.probesGranted == 2)
        #expect(breaker.state.probeSuccesses == 1)
        #expect(breaker.record(.success, durationMs: 1, nowMs: 1_650)?.to == .closed)
    }

    @Test func randomSequencesKeepEveryInvariant() {
        var generator = SeededGenerator(state: 10)
        var transitions: [CircuitBreaker.Phase: Int] = [:]
        for round in 0..<200 {
            let c = CircuitBreaker.Configuration(
                windowSize: Int.random(in: 1...8, using: &generator), minimumCalls: Int.random(in: 1...6, using: &generator),
                failureRatePercent: Int.random(in: 1...100, using: &generator), slowCallMs: 50,
                openBaseMs: Int.random(in: 1...200, using: &generator), openMaxMs: Int.random(in: 1...2_000, using: &generator),
                halfOpenProbes: Int.random(in: 1...3, using: &generator), probeTimeoutMs: Int.random(in: 1...300, using: &generator))
            var breaker = CircuitBreaker(configuration: c)
            var now = Int.random(in: 0...1_000, using: &generator)
            for step in 0..<300 {
                let before = breaker.state
                let context = "round \(round) step \(step) from \(before)"
                now += Int.random(in: 0...60, using: &generator)
                var transition: CircuitBreaker.Transition?
                if Bool.random(using: &generator) {
                    let permission = breaker.mayCall(nowMs: now)
                    transition = permission.transition
                    switch permission.decision {
                    case .call: #expect(before.phase == .closed && breaker.state == before, "\(context)")
                    case .probe: #expect(breaker.state.phase == .halfOpen && breaker.state.lastProbeAtMs == now, "\(context)")
                    case .refuse(let retryAtMs): #expect(breaker.state.phase != .closed && retryAtMs > now, "\(context)")
                    }
                    if let transition { #expect(transition == .init(from: .open, to: .halfOpen, atMs: now), "\(context)") }
                    #expect(before.phase != .open || now >= before.openUntilMs || breaker.state == before, "\(context)")
                } else {
                    let outcome: CircuitBreaker.Outcome = Int.random(in: 0..<3, using: &generator) == 0 ? .failure : .success
                    let duration = Int.random(in: 0...60, using: &generator)
                    let failed = outcome == .failure || duration >= c.slowCallMs
                    transition = breaker.record(outcome, durationMs: duration, nowMs: now)
                    switch (before.phase, transition?.to) {
                    case (.open, _): #expect(transition == nil && breaker.state == before, "\(context)")
                    case (.closed, .open?):
                        // It trips only with the minimum of calls in the window and the rate reached.
                        let window = Array((before.window + [failed]).suffix(c.windowSize))
                        #expect(window.count >= c.minimumCalls, "\(context)")
                        #expect(window.filter { $0 }.count * 100 >= c.failureRatePercent * window.count, "\(context)")
                    case (.closed, nil): #expect(breaker.state.window == Array((before.window + [failed]).suffix(c.windowSize)), "\(context)")
                    case (.halfOpen, .open?): #expect(failed, "\(context)")
                    case (.halfOpen, .closed?): #expect(!failed && before.probeSuccesses + 1 == c.halfOpenProbes, "\(context)")
                    case (.halfOpen, nil): #expect(!failed && breaker.state.probeSuccesses == before.probeSuccesses + 1, "\(context)")
                    default: Issue.record("impossible transition \(String(describing: transition)) \(context)")
                    }
                }
                if let transition {
                    transitions[transition.to, default: 0] += 1
                    #expect(transition.from == before.phase && transition.to == breaker.state.phase, "\(context)")
                    #expect(breaker.state.changedAtMs == now, "\(context)")
                }
                if transition?.to == .open {
                    #expect(breaker.state.trips == before.trips + 1, "\(context)")
                    #expect(breaker.state.openUntilMs - now == c.openPeriodMs(trips: breaker.state.trips), "\(context)")
                }
                let s = breaker.state
                #expect(s.window.count <= c.windowSize, "\(context)")
                #expect(s.probesGranted <= c.halfOpenProbes && s.probeSuccesses < c.halfOpenProbes, "\(context)")
                switch s.phase {
                case .closed: #expect(s.trips == 0 && s.openUntilMs == 0 && s.probesGranted == 0 && s.probeSuccesses == 0, "\(context)")
                case .open: #expect(s.trips >= 1 && s.openUntilMs > s.changedAtMs && s.window.isEmpty && s.probesGranted == 0, "\(context)")
                case .halfOpen: #expect(s.trips >= 1 && s.openUntilMs == 0 && s.window.isEmpty, "\(context)")
                }
                #expect(c.openPeriodMs(trips: max(1, s.trips)) <= c.openMaxMs, "\(context)")
            }
        }
        // The sequences reached every phase many times, or the invariants prove little.
        #expect(CircuitBreaker.Phase.allCases.allSatisfy { transitions[$0, default: 0] > 100 }, "\(transitions)")
    }
}
