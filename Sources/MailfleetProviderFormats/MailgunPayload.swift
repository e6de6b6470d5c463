import Foundation
import MailfleetCore

/// The form bodies of Mailgun `POST /v3/{domain}/messages` calls.
///
/// Batch sending: one call lists every recipient in `to` and carries `recipient-variables`, so
/// Mailgun sends each recipient a copy addressed to them alone. Per-message values travel as
/// recipient variables: our message id (`v:mailfleet_message_id`), metadata (`v:<key>`), the
/// subject when subjects differ, and tracking URLs (`%recipient.mf_open%`, `%recipient.mf_click_N%`).
public enum MailgunPayload {
    /// The variable carrying our message id, echoed by Mailgun in events and webhooks.
    public static let messageIDVariable = "mailfleet_message_id"

    /// Splits a batch (one `ContentKey`) into calls. A message with exactly one recipient (in
    /// `to`, none in cc or bcc) joins the shared batch call unless its address is already in it
    /// (recipient variables are keyed by address); any other message is a call of its own,
    /// sent as an ordinary message whose recipients see each other.
    public static func calls(for messages: [RenderedMessage]) -> [(messages: [RenderedMessage], batched: Bool)] {
        var shared: [RenderedMessage] = []
        var seen = Set<String>()
        var single: [[RenderedMessage]] = []
        for rendered in messages {
            let c = rendered.message.content
            if c.to.count == 1, c.cc.isEmpty, c.bcc.isEmpty, seen.insert(c.to[0].email.lowercased()).inserted {
                shared.append(rendered)
            } else {
                single.append([rendered])
            }
        }
        var calls: [(messages: [RenderedMessage], batched: Bool)] = []
        if !shared.isEmpty { calls.append((shared, true)) }
        calls += single.map { ($0, false) }
        return calls
    }

    /// The form for one call.
    public static func form(for messages: [RenderedMessage], batched: Bool, boundary: String? = nil) -> MultipartFormData {
        var form = boundary.map { MultipartFormData(boundary: $0) } ?? MultipartFormData()
        guard let first = messages.first else { return form }
        let content = first.message.content
        form.append("from", MIMEBuilder.encodeAddress(content.from))
        if !batched {
            for a in content.to { form.append("to", MIMEBuilder.encodeAddress(a)) }
            for a in content.cc { form.append("cc", MIMEBuilder.encodeAddress(a)) }
            for a in content.bcc { form.append("bcc", MIMEBuilder.encodeAddress(a)) }
            form.append("subject", content.subject)
            if let text = first.text { form.append("text", text) }
            if let html = first.html { form.append("html", html) }
            appendHeaders(content, to: &form)
            for header in first.ownHeaders { form.append("h:\(header.name)", header.value) }
            form.append("v:\(messageIDVariable)", first.message.id.lowercasedString)
            for (key, value) in content.metadata.sorted(by: { $0.key < $1.key }) where key != messageIDVariable {
                form.append("v:\(key)", value)
            }
            return form
        }
        for rendered in messages { form.append("to", MIMEBuilder.encodeAddress(rendered.message.content.to[0])) }
        let sameSubject = messages.allSatisfy { $0.message.content.subject == content.subject }
        form.append("subject", sameSubject ? content.subject : "%recipient.mf_subject%")
        let placeholders = Set(messages.flatMap { $0.substitutions.keys })
        if let text = first.textTemplate { form.append("text", substitute(text, placeholders)) }
        if let html = first.htmlTemplate { form.append("html", substitute(html, placeholders)) }
        appendHeaders(content, to: &form)
        // A header whose value differs per recipient (List-Unsubscribe) is a recipient variable.
        var ownVariables: [String: String] = [:]
        for header in first.ownHeaders {
            if messages.allSatisfy({ $0.ownHeaders.first { $0.name == header.name }?.value == header.value }) {
                form.append("h:\(header.name)", header.value)
            } else {
                let variable = headerVariable(header.name)
                ownVariables[header.name] = variable
                form.append("h:\(header.name)", "%recipient.\(variable)%")
            }
        }

        var variables: [String: [String: String]] = [:]
        var metadataKeys = Set<String>()
        for rendered in messages {
            let c = rendered.message.content
            var own: [String: String] = [:]
            for (key, value) in c.metadata where key != messageIDVariable {
                own[key] = value
                metadataKeys.insert(key)
            }
            own[messageIDVariable] = rendered.message.id.lowercasedString
            if !sameSubject { own["mf_subject"] = c.subject }
            for (placeholder, value) in rendered.substitutions { own[variableName(placeholder)] = value }
            for header in rendered.ownHeaders {
                if let variable = ownVariables[header.name] { own[variable] = header.value }
            }
            variables[c.to[0].email] = own
        }
        // Every recipient needs every variable the shared fields mention, or Mailgun would send
        // the `%recipient.x%` text itself.
        for email in variables.keys {
            for key in metadataKeys where variables[email]?[key] == nil { variables[email]?[key] = "" }
            for placeholder in placeholders where variables[email]?[variableName(placeholder)] == nil {
                variables[email]?[variableName(placeholder)] = ""
            }
        }
        let json = (try? PayloadJSON.encode(variables)) ?? Array("{}".utf8)
        form.append("recipient-variables", String(decoding: json, as: UTF8.self))
        form.append("v:\(messageIDVariable)", "%recipient.\(messageIDVariable)%")
        for key in metadataKeys.sorted() { form.append("v:\(key)", "%recipient.\(key)%") }
        return form
    }

    /// Mailgun's id for an accepted call (`{"id": "<...>", "message": "Queued. Thank you."}`),
    /// or nil when the answer does not carry one.
    public static func messageID(inAnswer body: [UInt8]) -> String? {
        PayloadJSON.decode(Answer.self, from: body)?.id
    }

    /// The body of a 200 answer.
    private struct Answer: Decodable {
        var id: String?
    }

    /// `[[mf:click:3]]` → `mf_click_3`: a recipient-variable name for a tracking placeholder.
    public static func variableName(_ placeholder: String) -> String {
        var inner = placeholder
        if inner.hasPrefix("[[") { inner.removeFirst(2) }
        if inner.hasSuffix("]]") { inner.removeLast(2) }
        return inner.replacingOccurrences(of: ":", with: "_")
    }

    /// `List-Unsubscribe` → `mf_h_list_unsubscribe`: the recipient variable of a per-message header.
    static func headerVariable(_ name: String) -> String {
        "mf_h_" + name.lowercased().replacingOccurrences(of: "-", with: "_")
    }

    private static func substitute(_ template: String, _ placeholders: Set<String>) -> String {
        var out = template
        for placeholder in placeholders { out = out.replacingOccurrences(of: placeholder, with: "%recipient.\(variableName(placeholder))%") }
        return out
    }

    private static func appendHeaders(_ content: MessageContent, to form: inout MultipartFormData) {
        for attachment in content.attachments {
            form.appendFile("attachment", filename: attachment.filename, contentType: attachment.contentType, data: attachment.data)
        }
        if let replyTo = content.replyTo { form.append("h:Reply-To", MIMEBuilder.encodeAddress(replyTo)) }
        for (name, value) in content.headers.sorted(by: { $0.key < $1.key }) where !HeaderRules.isReserved(name) {
            form.append("h:\(name)", value)
        }
    }
}
