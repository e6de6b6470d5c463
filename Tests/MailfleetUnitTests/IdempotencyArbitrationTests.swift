import Foundation
import MailfleetCore
import Testing

@Suite struct IdempotencyArbitrationTests {
    func request(_ tenant: UUID, key: String?, hash: String = "h", body: String = "answer") -> AcceptRequest {
        AcceptRequest(
            tenantID: tenant, idempotencyKey: key, requestHash: hash, responseStatus: 202, responseBody: body,
            messages: [makeMessage(tenant: tenant)])
    }

    @Test func requestsWithoutKeysClaimNothingAndAreCreated() {
        let tenant = UUID()
        let arbitration = IdempotencyArbitration(requests: [request(tenant, key: nil), request(tenant, key: nil)])
        #expect(arbitration.claimsNothing)
        #expect(arbitration.inserting == [0, 1])
        #expect(arbitration.keysToRead.isEmpty)
        #expect(arbitration.answer(stored: [:]) == .results([.created, .created]))
    }

    @Test func onlyTheFirstRequestPerKeyOfAGroupClaimsIt() {
        let a = UUID(), b = UUID()
        let requests = [
            request(a, key: "k"), request(a, key: nil), request(a, key: "k", hash: "other"), request(b, key: "k"), request(a, key: "j"),
        ]
        let arbitration = IdempotencyArbitration(requests: requests)
        #expect(!arbitration.claimsNothing)
        // The same key of another tenant is another key.
        #expect(arbitration.claimants == [0, 3, 4])
        #expect(arbitration.claims.map(\.key) == [.init(tenantID: a, key: "k"), .init(tenantID: b, key: "k"), .init(tenantID: a, key: "j")])
        #expect(arbitration.claims.map(\.request.requestHash) == ["h", "h", "h"])
    }

    @Test func winnersInsertAndLosersReplayTheStoredAnswer() {
        let a = UUID()
        let requests = [request(a, key: "won"), request(a, key: "lost", hash: "h1"), request(a, key: "won", hash: "h2"), request(a, key: nil)]
        var arbitration = IdempotencyArbitration(requests: requests)
        arbitration.claimed([.init(tenantID: a, key: "won")])
        #expect(arbitration.inserting == [0, 3])
        // The second request with "won" did not claim it: it reads what the first stored.
        #expect(Set(arbitration.keysToRead) == [.init(tenantID: a, key: "lost"), .init(tenantID: a, key: "won")])
        let stored: [IdempotencyArbitration.Key: IdempotencyArbitration.StoredAnswer] = [
            .init(tenantID: a, key: "lost"): .init(requestHash: "h1", status: 202, body: "earlier"),
            .init(tenantID: a, key: "won"): .init(requestHash: "h", status: 202, body: "answer"),
        ]
        #expect(arbitration.answer(stored: stored) == .results([
            .created,
            .replay(sameRequest: true, status: 202, body: "earlier"),
            // Same key, different body: the caller reused the key (a conflict, not a replay).
            .replay(sameRequest: false, status: 202, body: "answer"),
            .created,
        ]))
    }

    @Test func aLostKeyWithNoStoredAnswerAsksForARetry() {
        let a = UUID()
        var arbitration = IdempotencyArbitration(requests: [request(a, key: "gone")])
        arbitration.claimed([])
        #expect(arbitration.inserting.isEmpty)
        #expect(arbitration.answer(stored: [:]) == .keyVanished("gone"))
    }
}
