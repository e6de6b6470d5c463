import MailfleetHTTPClient
import Testing

/// Reading the RCPT TO replies out of libcurl's SMTP dialogue (what `SMTPReplyClass.outcome`
/// later reads per message).
@Suite struct SMTPDialogueTests {
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
}
