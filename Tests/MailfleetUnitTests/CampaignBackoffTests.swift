import MailfleetCore
import Testing

@Suite("Campaign backoff")
struct CampaignBackoffTests {
    @Test func theWaitDoublesWithEachFailureInARowUpToTheMaximum() {
        let backoff = CampaignBackoff(first: 5, maximum: 60)
        #expect((1...6).map { backoff.delay(afterFailures: $0) } == [5, 10, 20, 40, 60, 60])
        #expect(backoff.delay(afterFailures: 1_000_000) == 60)
        // A count that is not positive (a row written before the count existed) waits the first delay.
        #expect(backoff.delay(afterFailures: 0) == 5)
    }
}
