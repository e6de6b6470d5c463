import Foundation
import MailfleetCore
import MailfleetProviderFormats
import Testing

/// Each provider's webhook payloads read into the one event model: kinds, bounce severity and
/// class, our message id (or the provider's), recipient, time, and an event id stable across
/// redeliveries.
@Suite struct WebhookEventTests {
    let ourID = UUID(uuidString: "0b6c1a9e-3f1d-4c55-9a51-6f3c2d1e0a77")!

    // MARK: SendGrid

    @Test func sendGridPythonVectorIsADrop() throws {
        let events = try SendGridWebhookEvents.parse(try WebhookVectors.bytes("sendgrid/sendgrid_python_eventwebhook.body"))
        #expect(events == [
            WebhookEvent(
                provider: .sendgrid, providerEventID: "ZHJvcC0xMDk5NDkxOS1MUnpYbF9OSFN0T0doUTRrb2ZTbV9BLTA", kind: .dropped,
                providerMessageID: "LRzXl_NHStOGhQ4kofSm_A", recipient: "hello@world.com", occurredAt: Date(timeIntervalSince1970: 1_600_112_492),
                reason: "Bounced Address")
        ])
        // An event kind we do not model is left out, not refused.
        #expect(try SendGridWebhookEvents.parse(try WebhookVectors.bytes("sendgrid/sendgrid_go_node_eventwebhook.body")).isEmpty)
    }

    @Test func sendGridKinds() throws {
        let body = """
            [{"event":"processed","email":"a@x.com","timestamp":1,"sg_event_id":"p"},
             {"event":"delivered","email":"A@X.com","timestamp":2,"sg_event_id":"d","sg_message_id":"m1.filter","mailfleet_message_id":"\(ourID)"},
             {"event":"deferred","email":"a@x.com","timestamp":3,"sg_event_id":"df","response":"421 try later"},
             {"event":"bounce","email":"a@x.com","timestamp":4,"sg_event_id":"b","type":"bounce","status":"5.1.1","reason":"550 5.1.1 user unknown"},
             {"event":"bounce","email":"a@x.com","timestamp":5,"sg_event_id":"bl","type":"blocked","status":"4.0.0","reason":"blocked by spamhaus","bounce_classification":"Reputation"},
             {"event":"open","email":"a@x.com","timestamp":6,"sg_event_id":"o"},
             {"event":"click","email":"a@x.com","timestamp":7,"sg_event_id":"c","url":"https://example.com/a"},
             {"event":"spamreport","email":"a@x.com","timestamp":8,"sg_event_id":"s"},
             {"event":"group_unsubscribe","email":"a@x.com","timestamp":9,"sg_event_id":"u"},
             {"event":"open","email":"a@x.com","timestamp":10}]
            """
        let events = try SendGridWebhookEvents.parse(Array(body.utf8))
        #expect(events.map(\.kind) == [.delivered, .deferred, .bounced, .bounced, .opened, .clicked, .complained, .unsubscribed, .opened])
        #expect(events[0].messageID == ourID && events[0].providerMessageID == "m1" && events[0].recipient == "a@x.com")
        #expect(events[1].reason == "421 try later")
        #expect(events[2].bounce == Bounce(severity: .hard, bounceClass: .invalidAddress, code: "5.1.1", text: "550 5.1.1 user unknown"))
        #expect(events[3].bounce?.severity == .soft && events[3].bounce?.bounceClass == .reputation)
        #expect(events[5].url == "https://example.com/a")
        #expect(events.map(\.suppressesRecipient) == [false, false, true, false, false, false, true, true, false])
        // No sg_event_id: a derived id, the same on a second delivery of the same event.
        #expect(events[8].providerEventID.hasPrefix("sha256:"))
        #expect(try SendGridWebhookEvents.parse(Array(body.utf8))[8].providerEventID == events[8].providerEventID)
    }

    @Test func nulCharactersAreStrippedFromText() throws {
        let body = #"""
            [{"event":"bounce","email":"a\u0000@x.com","timestamp":4,"sg_event_id":"b\u0000","type":"bounce","status":"5.1.1\u0000","reason":"550\u0000 unknown","sg_message_id":"m\u00001.f"}]
            """#
        let event = try #require(try SendGridWebhookEvents.parse(Array(body.utf8)).first)
        #expect(event.recipient == "a@x.com" && event.providerEventID == "b" && event.providerMessageID == "m1")
        #expect(event.bounce?.code == "5.1.1" && event.bounce?.text == "550 unknown")
    }

    @Test func sendGridMalformedBody() {
        #expect(throws: WebhookRejection.self) { _ = try SendGridWebhookEvents.parse(Array("{\"event\":1}".utf8)) }
        let refused = #expect(throws: WebhookRejection.self) { _ = try SendGridWebhookEvents.parse(Array("not json".utf8)) }
        #expect(refused?.reason == .malformed && refused?.status == 400)
    }

    // MARK: Mailgun

    @Test func mailgunVectorBodyCarriesItsSignatureAndNoModelledEvent() throws {
        let body = try MailgunWebhookEvents.parse(try WebhookVectors.bytes("mailgun/mailgun_webhook_body.json"))
        #expect(body.signature?.token == "5egbgr1vjgqxtrnp65xfznchgdccwh5d6i09vijqi3whgowmn6")
        #expect(body.signature?.timestamp == "1403645220")
        #expect(body.event == nil)  // `accepted` is our own `sent`
    }

    func mailgun(_ eventData: String) throws -> WebhookEvent? {
        let body = #"{"signature":{"timestamp":"1","token":"t","signature":"s"},"event-data":"# + eventData + "}"
        return try MailgunWebhookEvents.parse(Array(body.utf8)).event
    }

    @Test func mailgunKinds() throws {
        let vars = #""user-variables":{"mailfleet_message_id":"\#(ourID)"},"message":{"headers":{"message-id":"20130812164300.28108.52546@samples.mailgun.org"}}"#
        let delivered = try #require(try mailgun(#"{"id":"e1","event":"delivered","timestamp":1376325780.16,"recipient":"Baz@example.com",\#(vars)}"#))
        #expect(delivered.kind == .delivered && delivered.messageID == ourID && delivered.recipient == "baz@example.com")
        #expect(delivered.providerMessageID == "<20130812164300.28108.52546@samples.mailgun.org>")
        #expect(delivered.providerEventID == "e1" && delivered.occurredAt == Date(timeIntervalSince1970: 1376325780.16))

        let hard = try #require(try mailgun(#"{"id":"e2","event":"failed","severity":"permanent","reason":"bounce","recipient":"a@x.com","timestamp":2,"delivery-status":{"code":550,"message":"5.1.1 The email account that you tried to reach does not exist","description":""}}"#))
        #expect(hard.kind == .bounced && hard.bounce?.severity == .hard && hard.bounce?.bounceClass == .invalidAddress && hard.bounce?.code == "550")
        #expect(hard.suppressesRecipient)

        let temporary = try #require(try mailgun(#"{"id":"e3","event":"failed","severity":"temporary","reason":"generic","recipient":"a@x.com","timestamp":3,"delivery-status":{"code":452,"message":"mailbox full"}}"#))
        #expect(temporary.kind == .deferred && temporary.reason == "mailbox full" && !temporary.suppressesRecipient)

        let suppressed = try #require(try mailgun(#"{"id":"e4","event":"failed","severity":"permanent","reason":"suppress-bounce","recipient":"a@x.com","timestamp":4}"#))
        #expect(suppressed.kind == .dropped && suppressed.reason == "suppress-bounce")

        #expect(try mailgun(#"{"id":"e5","event":"complained","recipient":"a@x.com","timestamp":5}"#)?.kind == .complained)
        #expect(try mailgun(#"{"id":"e6","event":"unsubscribed","recipient":"a@x.com","timestamp":6}"#)?.kind == .unsubscribed)
        #expect(try mailgun(#"{"id":"e7","event":"opened","recipient":"a@x.com","timestamp":7}"#)?.kind == .opened)
        #expect(try mailgun(#"{"id":"e8","event":"clicked","recipient":"a@x.com","timestamp":8,"url":"https://e.com"}"#)?.url == "https://e.com")
        #expect(try mailgun(#"{"id":"e9","event":"stored","timestamp":9}"#) == nil)
    }

    @Test func mailgunWithoutSignatureBlockReadsAsUnsigned() throws {
        let body = try MailgunWebhookEvents.parse(Array(#"{"event-data":{"id":"e","event":"delivered","timestamp":1}}"#.utf8))
        #expect(body.signature == nil && body.event?.kind == .delivered)
    }

    // MARK: SES through SNS

    func notification(_ message: String, id: String = "sns-1") -> SNSEnvelope {
        SNSEnvelope(
            type: "Notification", messageID: id, topicArn: "arn:aws:sns:us-east-1:1:ses", message: message, timestamp: "2026-01-02T03:04:05.678Z",
            signatureVersion: "2", signature: "", signingCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem")
    }

    @Test func sesBounceOfTwoRecipients() throws {
        // The bounce of moto's SES feedback sample (which SES sends with `Message` as text).
        let moto = try WebhookVectors.object("sns_moto/moto_sns_ses_feedback_bounce.json")
        var record = moto["Message"] as! [String: Any]
        record["notificationType"] = "Bounce"
        var mail = record["mail"] as! [String: Any]
        mail["tags"] = ["mailfleet_message_id": [ourID.uuidString.lowercased()]]
        record["mail"] = mail
        let message = String(decoding: try JSONSerialization.data(withJSONObject: record), as: UTF8.self)
        let events = try SESWebhookEvents.parse(notification(message))
        #expect(events.count == 2)
        #expect(events.map(\.recipient) == ["recipient1@example.com", "recipient2@example.com"])
        #expect(events.map(\.providerEventID) == ["sns-1/recipient1@example.com", "sns-1/recipient2@example.com"])
        #expect(events.allSatisfy { $0.kind == .bounced && $0.messageID == ourID && $0.providerMessageID == "000001378603177f-7a5433e7-8edb-42ae-af10-f0181f34d6ee-000000" })
        #expect(events[0].bounce == Bounce(severity: .hard, bounceClass: .invalidAddress, code: "5.0.0", text: "smtp; 550 user unknown"))
        #expect(events[0].occurredAt == ISO8601.parse("2012-05-25T14:59:38.605Z"))
    }

    @Test func sesKinds() throws {
        let mail = #""mail":{"messageId":"ses-1","timestamp":"2026-01-01T00:00:00Z","destination":["a@x.com"]}"#
        let complaint = try SESWebhookEvents.parse(notification(#"{"notificationType":"Complaint",\#(mail),"complaint":{"complainedRecipients":[{"emailAddress":"a@x.com"}],"timestamp":"2026-01-01T00:01:00Z","complaintFeedbackType":"abuse"}}"#))
        #expect(complaint.map(\.kind) == [.complained] && complaint[0].reason == "abuse" && complaint[0].messageID == nil && complaint[0].providerMessageID == "ses-1")
        let notSpam = try SESWebhookEvents.parse(notification(#"{"notificationType":"Complaint",\#(mail),"complaint":{"complainedRecipients":[{"emailAddress":"a@x.com"}],"complaintFeedbackType":"not-spam"}}"#))
        #expect(notSpam.isEmpty)
        let delivery = try SESWebhookEvents.parse(notification(#"{"notificationType":"Delivery",\#(mail),"delivery":{"recipients":["a@x.com","b@x.com"],"timestamp":"2026-01-01T00:00:02Z"}}"#))
        #expect(delivery.map(\.kind) == [.delivered, .delivered])
        let soft = try SESWebhookEvents.parse(notification(#"{"eventType":"Bounce",\#(mail),"bounce":{"bounceType":"Transient","bounceSubType":"MailboxFull","bouncedRecipients":[{"emailAddress":"a@x.com"}]}}"#))
        #expect(soft[0].bounce?.severity == .soft && soft[0].bounce?.bounceClass == .mailboxFull && !soft[0].suppressesRecipient)
        let click = try SESWebhookEvents.parse(notification(#"{"eventType":"Click",\#(mail),"click":{"link":"https://e.com/x","timestamp":"2026-01-01T00:00:03Z"}}"#))
        #expect(click.map(\.kind) == [.clicked] && click[0].url == "https://e.com/x" && click[0].recipient == "a@x.com")
        // Several recipients: one open, of nobody in particular (SES does not say who).
        let many = #""mail":{"messageId":"ses-2","timestamp":"2026-01-01T00:00:00Z","destination":["a@x.com","b@x.com","c@x.com"]}"#
        let open = try SESWebhookEvents.parse(notification(#"{"eventType":"Open",\#(many),"open":{"timestamp":"2026-01-01T00:00:04Z"}}"#))
        #expect(open.map(\.kind) == [.opened] && open[0].recipient == nil && open[0].providerMessageID == "ses-2")
        let clicks = try SESWebhookEvents.parse(notification(#"{"eventType":"Click",\#(many),"click":{"link":"https://e.com/y"}}"#))
        #expect(clicks.count == 1 && clicks[0].recipient == nil)
        // On SES's own suppression list: an address that bounced before, suppressed here too.
        let listed = try SESWebhookEvents.parse(notification(#"{"eventType":"Bounce",\#(mail),"bounce":{"bounceType":"Permanent","bounceSubType":"OnAccountSuppressionList","bouncedRecipients":[{"emailAddress":"a@x.com"}]}}"#))
        #expect(listed[0].bounce?.bounceClass == .invalidAddress && listed[0].suppressesRecipient)
        let delay = try SESWebhookEvents.parse(notification(#"{"eventType":"DeliveryDelay",\#(mail),"deliveryDelay":{"delayType":"MailboxFull","delayedRecipients":[{"emailAddress":"a@x.com"}]}}"#))
        #expect(delay.map(\.kind) == [.deferred])
        #expect(try SESWebhookEvents.parse(notification(#"{"eventType":"Send",\#(mail)}"#)).isEmpty)
        // A plain publish on the topic (the SNS vectors say "Hello world") is not SES's.
        #expect(throws: WebhookRejection.self) { _ = try SESWebhookEvents.parse(notification("Hello world")) }
        #expect(throws: WebhookRejection.self) { _ = try SESWebhookEvents.parse(notification(#"{"notificationType":"Bounce"}"#)) }
    }

    // MARK: Postmark

    @Test func postmarkVectors() throws {
        let bounce = try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_bounce.json"))
        #expect(bounce == [
            WebhookEvent(
                provider: .postmark, providerEventID: "Bounce/4323372036854775807", kind: .bounced, providerMessageID: "883953f4-6105-42a2-a16a-77a8eac79483",
                recipient: "john@example.com", occurredAt: ISO8601.parse("2019-11-05T16:33:54.907Z")!,
                bounce: Bounce(severity: .hard, bounceClass: .invalidAddress, code: "HardBounce", text: "Test bounce details"))
        ])
        let delivery = try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_delivery.json"))
        #expect(delivery.map(\.kind) == [.delivered] && delivery[0].recipient == "john@example.com" && delivery[0].providerEventID.hasPrefix("sha256:"))
        let complaint = try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_spam_complaint.json"))
        #expect(complaint.map(\.kind) == [.complained] && complaint[0].providerEventID == "SpamComplaint/42" && complaint[0].suppressesRecipient)
        let open = try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_open.json"))
        #expect(open.map(\.kind) == [.opened])
        let click = try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_click.json"))
        #expect(click.map(\.kind) == [.clicked] && click[0].url == "https://example.com" && click[0].occurredAt == ISO8601.parse("2017-10-25T15:21:11.906Z"))
        // Blocked and DMARC rejections are hard bounces for the sender's fault: the address stays mailable.
        for (type, bounceClass) in [("Blocked", BounceClass.reputation), ("DMARCPolicy", .policy)] {
            let record = #"{"RecordType":"Bounce","ID":7,"Type":"\#(type)","Email":"a@x.com","BouncedAt":"2019-11-05T16:33:54Z"}"#
            let event = try #require(try PostmarkWebhookEvents.parse(Array(record.utf8)).first)
            #expect(event.bounce?.severity == .hard && event.bounce?.bounceClass == bounceClass && !event.suppressesRecipient, "\(type)")
        }
        let hardBounce = #"{"RecordType":"Bounce","ID":8,"Type":"HardBounce","Email":"a@x.com","BouncedAt":"2019-11-05T16:33:54Z"}"#
        #expect(try PostmarkWebhookEvents.parse(Array(hardBounce.utf8)).first?.suppressesRecipient == true)
        // Postmark's own suppression after a hard bounce: the Bounce record carries it.
        #expect(try PostmarkWebhookEvents.parse(try WebhookVectors.bytes("postmark/postmark_subscription_change.json")).isEmpty)
    }

    @Test func postmarkOurIDAndUnsubscribe() throws {
        let body = #"{"RecordType":"SubscriptionChange","MessageID":"m","Recipient":"a@x.com","ChangedAt":"2020-02-01T10:53:34.416071Z","SuppressSending":true,"SuppressionReason":"ManualSuppression","Metadata":{"mailfleet_message_id":"\#(ourID)"}}"#
        let events = try PostmarkWebhookEvents.parse(Array(body.utf8))
        #expect(events.map(\.kind) == [.unsubscribed] && events[0].messageID == ourID && events[0].suppressesRecipient)
        let soft = #"{"RecordType":"Bounce","ID":7,"Type":"SoftBounce","MessageID":"m","Email":"a@x.com","Details":"552 mailbox full","BouncedAt":"2020-02-01T10:53:34Z"}"#
        #expect(try PostmarkWebhookEvents.parse(Array(soft.utf8))[0].bounce == Bounce(severity: .soft, bounceClass: .mailboxFull, code: "SoftBounce", text: "552 mailbox full"))
        let auto = #"{"RecordType":"Bounce","ID":8,"Type":"AutoResponder","MessageID":"m","Email":"a@x.com"}"#
        #expect(try PostmarkWebhookEvents.parse(Array(auto.utf8)).isEmpty)
    }

    // MARK: Bounce classes

    @Test func bounceClasses() {
        #expect(BounceClass.classify(status: "5.1.1") == .invalidAddress)
        #expect(BounceClass.classify(status: "5.2.2") == .mailboxFull)
        #expect(BounceClass.classify(status: "5.7.1", text: "Service unavailable; client host blocked using Spamhaus") == .reputation)
        #expect(BounceClass.classify(status: "5.7.1", text: "message rejected as spam") == .content)
        #expect(BounceClass.classify(status: "5.7.26", text: "unauthenticated email, DMARC") == .policy)
        #expect(BounceClass.classify(status: "5.3.4") == .content)
        #expect(BounceClass.classify(status: "4.4.1") == .technical)
        #expect(BounceClass.classify(smtpCode: 550, text: "550 5.1.1 <a@x.com>: Recipient address rejected") == .invalidAddress)
        #expect(BounceClass.classify(status: "5.0.0", text: "smtp; 550 user unknown") == .invalidAddress)
        #expect(BounceClass.classify(text: "mailbox is full") == .mailboxFull)
        #expect(BounceClass.classify(smtpCode: 552) == .mailboxFull)
        #expect(BounceClass.classify(text: "connection timed out") == .technical)
        #expect(BounceClass.classify(status: "5.0.0", text: "no idea") == .unclassified)
        #expect(BounceClass.classify() == .unclassified)
    }
}
