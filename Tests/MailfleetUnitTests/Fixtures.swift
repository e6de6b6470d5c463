import Foundation
import MailfleetCore

/// A claimed message with the given recipients, body and attempts.
func makeMessage(tenant: UUID = UUID(), to: [String] = ["to@example.com"], subject: String = "S", html: String? = nil, attempts: Int = 0, trackOpens: Bool = false, trackClicks: Bool = false) -> Message {
    let content = MessageContent(
        from: try! EmailAddress(email: "from@example.com"), to: to.map { try! EmailAddress(email: $0) }, subject: subject,
        text: "text", html: html, trackOpens: trackOpens, trackClicks: trackClicks)
    return Message(id: UUID(), tenantID: tenant, priority: .bulk, status: .sending, content: content, attempts: attempts)
}

/// A provider account of `kind` for `tenant`.
func account(_ kind: ProviderKind, tenant: UUID = UUID()) -> ProviderAccount {
    ProviderAccount(id: UUID(), tenantID: tenant, name: kind.rawValue, kind: kind, endpoint: nil, priority: 1, secret: "s")
}

/// A rendered message to `to` with one tracked link and an open pixel, for payload tests.
func renderedWithTracking(_ to: [String], subject: String = "S", metadata: [String: String] = [:], cc: [String] = []) -> RenderedMessage {
    var message = makeMessage(to: to, subject: subject, html: "<a href=\"[[mf:click:0]]\">x</a>[[mf:open]]")
    message.content.metadata = metadata
    message.content.cc = cc.map { try! EmailAddress(email: $0) }
    return RenderedMessage(
        message: message, htmlTemplate: message.content.html, textTemplate: "text",
        substitutions: ["[[mf:open]]": "https://t/o/\(to[0])", "[[mf:click:0]]": "https://t/c/\(to[0])"])
}
