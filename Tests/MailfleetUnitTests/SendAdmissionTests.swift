import Foundation
import MailfleetCore
import Testing

@Suite struct SendAdmissionTests {
    let account = SendAdmission.Limit(reason: .accountRate, subject: "a", name: "account", intervalUs: 10_000)
    let google = SendAdmission.Limit(reason: .mailboxRate, subject: "g", name: "google", intervalUs: 100_000)

    @Test func aMessageGoesOnlyWithATokenFromEveryLimitItNeeds() {
        let ids = (0..<5).map { _ in UUID() }
        let needs: [(id: UUID, limits: [SendAdmission.Limit])] = [
            (ids[0], [account, google]), (ids[1], [account]), (ids[2], [account, google]), (ids[3], [account, google]), (ids[4], [account]),
        ]
        #expect(SendAdmission.wanted(needs) == [account: 5, google: 3])
        let decision = SendAdmission.decide(needs, grants: [
            account: .init(admitted: 4, nextFreeUs: 7_000), google: .init(admitted: 1, nextFreeUs: 50_000),
        ])
        #expect(decision.admitted == [ids[0], ids[1], ids[4]])
        // Held by google: their places in line spread their waits one interval apart.
        #expect(decision.held[ids[2]] == SendAdmission.Hold(limit: google, waitUs: 50_000, nextFreeUs: 50_000))
        #expect(decision.held[ids[3]] == SendAdmission.Hold(limit: google, waitUs: 150_000, nextFreeUs: 50_000))
        // The account granted 4, three were used: one goes back; google's one was used.
        #expect(decision.unused == [account: 1])
    }

    @Test func theLongestWaitNamesTheHold() {
        let id = UUID()
        let decision = SendAdmission.decide([(id, [account, google])], grants: [
            account: .init(admitted: 0, nextFreeUs: 900_000), google: .init(admitted: 0, nextFreeUs: 10),
        ])
        #expect(decision.held[id]?.limit == account)
        #expect(decision.admitted.isEmpty && decision.unused.isEmpty)
    }

    @Test func aLimitNotAskedLetsEverythingThrough() {
        let ids = [UUID(), UUID()]
        let decision = SendAdmission.decide([(ids[0], [account]), (ids[1], [])], grants: [:])
        #expect(decision.admitted == ids)
    }
}
