import Foundation
import MailfleetCore
import Testing

/// The pure rules behind provider reports: statuses move forward only, the webhook URL of each
/// kind of account, and the suppression rule shared by accept and send.
@Suite struct ProviderReportTests {
    @Test func statusesMoveForwardOnly() {
        #expect(MessageStatus.sent.advanced(by: .delivered) == .delivered)
        #expect(MessageStatus.sent.advanced(by: .bounced) == .bounced)
        #expect(MessageStatus.delivered.advanced(by: .bounced) == .bounced)
        #expect(MessageStatus.delivered.advanced(by: .complained) == .complained)
        #expect(MessageStatus.bounced.advanced(by: .complained) == .complained)
        #expect(MessageStatus.bounced.advanced(by: .delivered) == nil)
        #expect(MessageStatus.complained.advanced(by: .bounced) == nil)
        #expect(MessageStatus.delivered.advanced(by: .delivered) == nil)
        #expect(MessageStatus.sent.advanced(by: .opened) == nil)
        // A report may overtake the worker's own `sent` write.
        #expect(MessageStatus.sending.advanced(by: .delivered) == .delivered)
        #expect(MessageStatus.sending.advanced(by: .opened) == nil)
        // Reports never move a message that is not being sent or was not sent.
        for status in [MessageStatus.queued, .failed, .suppressed] {
            #expect(status.advanced(by: .delivered) == nil && status.advanced(by: .bounced) == nil)
        }
        #expect(MessageStatus.allCases.filter(\.isFinal) == [.sent, .failed, .suppressed, .delivered, .bounced, .complained, .cancelled])
    }

    @Test func webhookURLs() {
        let id = UUID(uuidString: "0b6c1a9e-3f1d-4c55-9a51-6f3c2d1e0a77")!
        func account(_ kind: ProviderKind, secret: String? = "s3") -> ProviderAccount {
            ProviderAccount(id: id, tenantID: UUID(), name: "a", kind: kind, endpoint: nil, priority: 1, secret: nil, webhookSecret: secret)
        }
        #expect(account(.sendgrid).webhookURL(trackerBaseURL: "https://t.example.com/") == "https://t.example.com/webhooks/sendgrid/\(id.lowercasedString)")
        #expect(account(.ses, secret: nil).webhookURL(trackerBaseURL: "https://t.example.com") == "https://t.example.com/webhooks/ses/\(id.lowercasedString)")
        // Postmark signs nothing: its URL carries the basic credentials.
        #expect(account(.postmark).webhookURL(trackerBaseURL: "https://t.example.com") == "https://mailfleet:s3@t.example.com/webhooks/postmark/\(id.lowercasedString)")
        #expect(account(.postmark, secret: nil).webhookURL(trackerBaseURL: "https://t.example.com") == "https://t.example.com/webhooks/postmark/\(id.lowercasedString)")
        #expect(account(.outbox).webhookURL(trackerBaseURL: "https://t.example.com") == nil)
        #expect(account(.smtp).webhookPath == nil)
        let secret = ProviderAccount.generateWebhookSecret()
        #expect(secret.count == 64 && secret != ProviderAccount.generateWebhookSecret())
    }

    @Test func suppressedRecipientsLeaveAndAllToHoldsTheMessageBack() throws {
        var message = makeMessage(to: ["a@example.com", "Gone@Example.com"])
        message.content.cc = [try EmailAddress(email: "cc@example.com")]
        let suppressed: Set<String> = ["gone@example.com", "cc@example.com"]
        let normalised = { (address: EmailAddress) in address.email.lowercased() }
        let removed = message.removeSuppressed(where: { suppressed.contains(normalised($0)) }, normalised: normalised)
        #expect(removed.recipients == ["gone@example.com", "cc@example.com"] && !removed.wholeMessage)
        #expect(message.content.to.map(\.email) == ["a@example.com"] && message.content.cc.isEmpty)

        var whole = makeMessage(to: ["gone@example.com"])
        let all = whole.removeSuppressed(where: { suppressed.contains(normalised($0)) }, normalised: normalised)
        #expect(all.wholeMessage && all.recipients == ["gone@example.com"])
        // Held back whole, it keeps its recipients.
        #expect(whole.content.to.map(\.email) == ["gone@example.com"])

        var untouched = makeMessage(to: ["a@example.com"])
        #expect(untouched.removeSuppressed(where: { suppressed.contains(normalised($0)) }, normalised: normalised) == ([], false))
    }

    @Test func droppedOutcomesWriteDroppedEvents() {
        var batch = OutcomeBatch()
        #expect(batch.isEmpty)
        let tenant = UUID(), message = UUID()
        batch.dropped = [OutcomeBatch.Dropped(messageID: message, tenantID: tenant, recipients: ["a@x.com", "b@x.com"])]
        #expect(!batch.isEmpty)
        #expect(batch.events.map(\.type) == [.dropped])
        #expect(batch.events[0].detail == ["reason": "suppressed", "recipients": "a@x.com,b@x.com"])
    }
}
