import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// Which provider calls count against an account's circuit breaker.
@Suite struct BatchOutcomeCircuitBreakerTests {
    private let messages = [["a@example.com"], ["b@example.com"]].map {
        let message = makeMessage(to: $0, subject: "S", html: "<p>x</p>")
        return RenderedMessage(message: message, htmlTemplate: message.content.html, textTemplate: nil)
    }

    private func failed(_ status: Int) throws -> BatchOutcome {
        try #require(BatchOutcome.failedCall(status: status, retryAfter: nil, body: [], provider: "p", messages: messages))
    }

    @Test func aCallThatFailedAsAWholeIsAFailure() throws {
        #expect(try failed(503).breakerOutcome == .failure)
        #expect(try failed(500).breakerOutcome == .failure)
        // An account failure (bad credentials) fails the account even with a 4xx status.
        #expect(try failed(401).breakerOutcome == .failure)
        // No answer at all (connection refused, timeout) comes back with status 0.
        let unanswered = BatchOutcome.all(messages, .retryable(reason: "p: timed out", retryAfter: nil), status: 0)
        #expect(unanswered.breakerOutcome == .failure)
        let perMessageAccountFailure = BatchOutcome.perMessage(messages, [.accepted(messageID: "m"), .accountFailure(reason: "token")], status: 200)
        #expect(perMessageAccountFailure.breakerOutcome == .failure)
    }

    @Test func anAnswerIsASuccessEvenWhenItRefusesMessages() throws {
        #expect(BatchOutcome.all(messages, .accepted(providerMessageID: nil), status: 202).breakerOutcome == .success)
        // Permanent refusals of the content or recipients are the account working as it should.
        #expect(try failed(400).breakerOutcome == .success)
        let mixed = BatchOutcome.perMessage(messages, [.rejected(reason: "inactive"), .retryable(reason: "busy")], status: 200)
        #expect(mixed.breakerOutcome == .success)
        let refusal = RecipientRefusal(address: "a@example.com", code: 550, reply: "no such user")
        var refused = BatchOutcome.all(messages, .accepted(providerMessageID: nil), status: 250)
        refused.refusals[messages[0].message.id] = [refusal]
        #expect(refused.breakerOutcome == .success)
    }

    @Test func throttlingIsNotCounted() throws {
        #expect(try failed(429).breakerOutcome == nil)
    }
}
