import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// What RCPT TO refusals and an SMTP transaction's final reply mean for a message.
@Suite struct SMTPRefusalTests {
    @Test func refusalsAreClassifiedPerMessage() {
        let ok = (address: "a@example.com", code: 250, text: "OK")
        let gone = (address: "b@example.com", code: 550, text: "5.1.1 unknown")
        let later = (address: "c@example.com", code: 451, text: "4.3.0 later")
        let auth = (address: "d@example.com", code: 530, text: "5.7.0 authentication required")

        // Accepted for some: sent, with each refused recipient reported.
        let some = SMTPReplyClass.outcome(code: 250, detail: "", replies: [ok, gone, later], recipients: 3, providerMessageID: "<id>")
        #expect(some.outcome == .accepted(providerMessageID: "<id>"))
        #expect(some.accountFailure == nil)
        #expect(some.refusals == [RecipientRefusal(address: "b@example.com", code: 550, reply: "5.1.1 unknown"), RecipientRefusal(address: "c@example.com", code: 451, reply: "4.3.0 later")])
        #expect(some.refusals.map(\.permanent) == [true, false])

        // Every recipient refused for good: rejected; with a temporary refusal among them: retried.
        let none = SMTPReplyClass.outcome(code: 550, detail: "RCPT failed", replies: [gone, gone], recipients: 2, providerMessageID: "<id>")
        if case .rejected(let reason) = none.outcome { #expect(reason.contains("b@example.com 550 5.1.1 unknown")) } else { Issue.record("not rejected: \(none.outcome)") }
        #expect(none.refusals.isEmpty)
        let mixed = SMTPReplyClass.outcome(code: 550, detail: "", replies: [later, gone], recipients: 2, providerMessageID: "<id>")
        if case .retryable = mixed.outcome {} else { Issue.record("not retryable: \(mixed.outcome)") }
        #expect(mixed.accountFailure == nil)
        let unauthorised = SMTPReplyClass.outcome(code: 530, detail: "", replies: [auth], recipients: 1, providerMessageID: "<id>")
        #expect(unauthorised.accountFailure == "smtp 530")

        // A transaction that stopped at the first refusal (a libcurl without RCPT_ALLOWFAILS):
        // read from the final code, as before.
        let stopped = SMTPReplyClass.outcome(code: 550, detail: "RCPT failed: 550", replies: [ok, gone], recipients: 3, providerMessageID: "<id>")
        #expect(stopped.outcome == .rejected(reason: "smtp 550: RCPT failed: 550"))
        let data = SMTPReplyClass.outcome(code: 452, detail: "DATA", replies: [ok], recipients: 1, providerMessageID: "<id>")
        #expect(data.outcome == .retryable(reason: "smtp 452: DATA", retryAfter: nil))
    }
}
