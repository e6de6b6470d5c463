import Foundation
import MailfleetAPI
import MailfleetCore
import Testing

@Suite struct AuthCachePolicyTests {
    @Test func answersLiveAtMostTheTTLAndNeverPastAScheduledRevocation() {
        let policy = AuthCachePolicy(ttl: 10)
        let now = Date(timeIntervalSince1970: 1_000)
        #expect(policy.expiry(now: now, revokesAt: nil) == now.addingTimeInterval(10))
        #expect(policy.expiry(now: now, revokesAt: now.addingTimeInterval(3)) == now.addingTimeInterval(3))
        #expect(policy.expiry(now: now, revokesAt: now.addingTimeInterval(3600)) == now.addingTimeInterval(10))
    }
}
