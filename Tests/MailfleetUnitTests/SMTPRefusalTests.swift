import Foundation
import MailfleetCore
import MailfleetHTTPClient
import MailfleetProviders
import Testing

/// Reading RCPT TO refusals out of libcurl's SMTP dialogue, and what they mean for a message.
@Suite struct SMTPRefusalTests {
    @Test func recipientRepliesAreReadFromTheDialogueInPieces() {
        var dialogue = SMTPDialogue()
        dialogue.received(Array("220 ready\r\n".utf8))
        dialogue.sent(Array("EHLO host\r\n".utf8))
        dialogue.received(Array("250-hello\r\n250-AUTH PLAIN\r\n250 SMTPUTF8\r\n".utf8))
        dialogue.sent(Array("AUTH PLAIN c2VjcmV0\r\n".utf8))
        dialogue.received(Array("235 ok\r\n".utf8))
        dialogue.sent(Array("MAIL FROM:<s@example.com>\r\n".utf8))
        dialogue.received(Array("250 OK\r\n".utf8))
        dialogue.sent(Array("RCPT TO:<a@example.com>\r\n".utf8))
        dialogue.received(Array("250 OK\r\n".utf8))
        // A command and a reply split across callbacks, and a multi-line refusal.
        dialogue.sent(Array("RCPT TO:<b@exa".utf8))
        dialogue.sent(Array("mple.com>\r\n".utf8))
        dialogue.received(Array("550-5.1.1 mailbox\r\n550 5.1.1 unava".utf8))
        dialogue.received(Array("ilable\r\n".utf8))
        dialogue.sent(Array("rcpt to: <c@example.com> NOTIFY=NEVER\r\n".utf8))
        dialogue.received(Array("451 4.3.0 later\r\n".utf8))
        dialogue.sent(Array("DATA\r\n".utf8))
        dialogue.received(Array("354 go ahead\r\n".utf8))
        dialogue.received(Array("250 accepted\r\n".utf8))
        #expect(dialogue.recipients == [
            SMTPRecipientReply(address: "a@example.com", code: 250, text: "OK"),
            SMTPRecipientReply(address: "b@example.com", code: 550, text: "5.1.1 mailbox 5.1.1 unavailable"),
            SMTPRecipientReply(address: "c@example.com", code: 451, text: "4.3.0 later"),
        ])
        let reply = SMTPReply(code: 250, recipients: dialogue.recipients)
        #expect(reply.refused.map(\.address) == ["b@example.com", "c@example.com"])
    }

    @Test func refusalsAreClassifiedPerMessage() {
        let ok = SMTPRecipientReply(address: "a@example.com", code: 250, text: "OK")
        let gone = SMTPRecipientReply(address: "b@example.com", code: 550, text: "5.1.1 unknown")
        let later = SMTPRecipientReply(address: "c@example.com", code: 451, text: "4.3.0 later")
        let auth = SMTPRecipientReply(address: "d@example.com", code: 530, text: "5.7.0 authentication required")

        // Accepted for some: sent, with each refused recipient reported.
        let some = SMTPReplyClass.outcome(of: SMTPReply(code: 250, recipients: [ok, gone, later]), recipients: 3, providerMessageID: "<id>")
        #expect(some.outcome == .accepted(providerMessageID: "<id>"))
        #expect(some.accountFailure == nil)
        #expect(some.refusals == [RecipientRefusal(address: "b@example.com", code: 550, reply: "5.1.1 unknown"), RecipientRefusal(address: "c@example.com", code: 451, reply: "4.3.0 later")])
        #expect(some.refusals.map(\.permanent) == [true, false])

        // Every recipient refused for good: rejected; with a temporary refusal among them: retried.
        let none = SMTPReplyClass.outcome(of: SMTPReply(code: 550, detail: "RCPT failed", recipients: [gone, gone]), recipients: 2, providerMessageID: "<id>")
        if case .rejected(let reason) = none.outcome { #expect(reason.contains("b@example.com 550 5.1.1 unknown")) } else { Issue.record("not rejected: \(none.outcome)") }
        #expect(none.refusals.isEmpty)
        let mixed = SMTPReplyClass.outcome(of: SMTPReply(code: 550, recipients: [later, gone]), recipients: 2, providerMessageID: "<id>")
        if case .retryable = mixed.outcome {} else { Issue.record("not retryable: \(mixed.outcome)") }
        #expect(mixed.accountFailure == nil)
        let unauthorised = SMTPReplyClass.outcome(of: SMTPReply(code: 530, recipients: [auth]), recipients: 1, providerMessageID: "<id>")
        #expect(unauthorised.accountFailure == "smtp 530")

        // A transaction that stopped at the first refusal (a libcurl without RCPT_ALLOWFAILS):
        // read from the final code, as before.
        let stopped = SMTPReplyClass.outcome(of: SMTPReply(code: 550, detail: "RCPT failed: 550", recipients: [ok, gone]), recipients: 3, providerMessageID: "<id>")
        #expect(stopped.outcome == .rejected(reason: "smtp 550: RCPT failed: 550"))
        let data = SMTPReplyClass.outcome(of: SMTPReply(code: 452, detail: "DATA", recipients: [ok]), recipients: 1, providerMessageID: "<id>")
        #expect(data.outcome == .retryable(reason: "smtp 452: DATA", retryAfter: nil))
    }
}
