import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// How provider answers become a batch's outcomes, the same way for every adapter.
@Suite struct BatchOutcomeTests {
    private let messages = [["a@example.com"], ["b@example.com"], ["c@example.com"]].map {
        let message = makeMessage(to: $0, subject: "S", html: "<p>x</p>")
        return RenderedMessage(message: message, htmlTemplate: message.content.html, textTemplate: nil)
    }

    @Test func aWholeCallIsClassifiedByItsStatus() throws {
        #expect(BatchOutcome.failedCall(status: 202, retryAfter: nil, body: [], provider: "p", messages: messages) == nil)

        let limited = try #require(BatchOutcome.failedCall(status: 429, retryAfter: "7", body: Array("slow down".utf8), provider: "p", messages: messages))
        #expect(limited.outcomes.count == 3 && limited.status == 429 && limited.accountFailure == nil)
        #expect(limited.outcomes.values.allSatisfy { $0 == .retryable(reason: "p 429: slow down", retryAfter: 7) })

        let unauthorised = try #require(BatchOutcome.failedCall(status: 401, retryAfter: nil, body: [], provider: "p", messages: messages))
        #expect(unauthorised.outcomes.count == 3 && unauthorised.accountFailure == "p 401")
        #expect(unauthorised.outcomes.values.allSatisfy { $0 == .retryable(reason: "p 401: ", retryAfter: nil) })

        let refused = try #require(BatchOutcome.failedCall(status: 400, retryAfter: nil, body: Array(String(repeating: "e", count: 400).utf8), provider: "p", messages: messages))
        #expect(refused.outcomes.count == 3)
        // The body is quoted, cut to 300 characters.
        #expect(refused.outcomes.values.allSatisfy { $0 == .rejected(reason: "p 400: " + String(repeating: "e", count: 300)) })
    }

    @Test func perMessageResultsKeepTheFirstAccountFailure() {
        let outcome = BatchOutcome.perMessage(
            messages, [.accepted(messageID: "m1"), .accountFailure(reason: "token"), .accountFailure(reason: "later")], status: 200)
        let ids = messages.map(\.message.id)
        #expect(outcome.outcomes[ids[0]] == .accepted(providerMessageID: "m1"))
        #expect(outcome.outcomes[ids[1]] == .retryable(reason: "token", retryAfter: nil))
        #expect(outcome.accountFailure == "token")
        let fine = BatchOutcome.perMessage(messages, [.accepted(messageID: nil), .rejected(reason: "no"), .retryable(reason: "busy")], status: 200)
        #expect(fine.accountFailure == nil)
        #expect(fine.outcomes[ids[1]] == .rejected(reason: "no"))
        #expect(fine.outcomes[ids[2]] == .retryable(reason: "busy", retryAfter: nil))
    }

    @Test func mergedCallsKeepEveryOutcomeTheHighestStatusAndTheFirstFailure() {
        let ids = messages.map(\.message.id)
        let refusal = RecipientRefusal(address: "x@example.com", code: 550, reply: "unknown")
        let merged = BatchOutcome.merged([
            BatchOutcome(outcomes: [ids[0]: .accepted(providerMessageID: "a")], status: 200, refusals: [ids[0]: [refusal]]),
            .all([messages[1]], .retryable(reason: "down", retryAfter: nil), accountFailure: "first", status: 503),
            .all([messages[2]], .retryable(reason: "down", retryAfter: nil), accountFailure: "second", status: 401),
        ])
        #expect(merged.outcomes.count == 3)
        #expect(merged.status == 503)
        #expect(merged.accountFailure == "first")
        #expect(merged.refusals == [ids[0]: [refusal]])
    }

    @Test func providerIDsAreReadFromTheAnswers() {
        #expect(MailgunPayload.messageID(inAnswer: Array(#"{"id":"<1@mg.example.com>","message":"Queued. Thank you."}"#.utf8)) == "<1@mg.example.com>")
        #expect(MailgunPayload.messageID(inAnswer: Array("Queued".utf8)) == nil)
        #expect(SESPayload.messageID(inAnswer: Array(#"{"MessageId":"ses-1"}"#.utf8)) == "ses-1")
        #expect(SESPayload.messageID(inAnswer: Array(#"{"MessageId":7}"#.utf8)) == nil)
        // A Postmark entry without a usable ErrorCode is not taken as accepted.
        #expect(PostmarkPayload.results(Array(#"[{"ErrorCode":"0","Message":"?"}]"#.utf8), count: 1) == [.rejected(reason: "postmark -1: ?")])
    }
}
