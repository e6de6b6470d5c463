import MailfleetCore
import Testing

@Suite struct MonotonicMillisecondsTests {
    @Test func durationsBecomeWholeMillisecondsRoundedTowardZero() {
        #expect(Duration.milliseconds(1_234).wholeMilliseconds == 1_234)
        #expect((Duration.seconds(2) + .microseconds(999)).wholeMilliseconds == 2_000)
        #expect(Duration.microseconds(1_999).wholeMilliseconds == 1)
        #expect(Duration.zero.wholeMilliseconds == 0)
    }

    @Test func theClockStartsAtZeroAndNeverGoesBack() {
        let clock = MonotonicMilliseconds()
        let first = clock.nowMs()
        #expect(first >= 0 && first < 1_000)
        #expect(clock.nowMs() >= first)
    }
}
