import Foundation
import MailfleetCore

extension SESPayload {
    /// The `SendEmail` body for one message as raw MIME.
    public static func sendEmail(_ rendered: RenderedMessage, mime: String, configurationSet: String?) throws -> [UInt8] {
        let c = rendered.message.content
        return try PayloadJSON.encode(
            SendEmail(
                fromEmailAddress: MIMEBuilder.encodeAddress(c.from), destination: Destination(c),
                content: .init(raw: .init(data: Data(mime.utf8).base64EncodedString())),
                emailTags: [NamedValue(name: messageIDTag, value: rendered.message.id.lowercasedString)],
                configurationSetName: configurationSet))
    }

    /// The `SendBulkEmail` body for messages of one `ContentKey` that `plan` put in one call.
    public static func sendBulkEmail(_ messages: [RenderedMessage], configurationSet: String?) throws -> [UInt8] {
        guard let first = messages.first else { return Array("{}".utf8) }
        let content = first.message.content
        let placeholders = Set(messages.flatMap { $0.substitutions.keys }).sorted()
        let headers = customHeaders(content).map { NamedValue(name: $0.name, value: $0.value) }
        let template = Template(
            templateContent: .init(
                subject: "{{\(subjectVariable)}}", html: first.htmlTemplate.map { variables(in: $0, placeholders) },
                text: first.textTemplate.map { variables(in: $0, placeholders) }),
            templateData: "{}", headers: headers.isEmpty ? nil : headers,
            attachments: content.attachments.isEmpty ? nil : content.attachments.map(Attachment.init))
        var entries: [BulkEmailEntry] = []
        for rendered in messages {
            let c = rendered.message.content
            let id = rendered.message.id.lowercasedString
            var data = [subjectVariable: c.subject]
            for placeholder in placeholders {
                // A placeholder this message has no value for stays as it is, as `RenderedMessage.fill` leaves it.
                data[variableName(placeholder)] = rendered.substitutions[placeholder] ?? placeholder
            }
            var replacementHeaders = [NamedValue(name: "X-Mailfleet-Message-Id", value: id)]
            if let metadata = MIMEBuilder.metadataHeader(c.metadata) {
                replacementHeaders.append(NamedValue(name: "X-Mailfleet-Metadata", value: metadata))
            }
            replacementHeaders += rendered.ownHeaders.map { NamedValue(name: $0.name, value: $0.value) }
            entries.append(
                BulkEmailEntry(
                    destination: Destination(c),
                    replacementEmailContent: .init(
                        replacementTemplate: .init(replacementTemplateData: String(decoding: try PayloadJSON.encode(data), as: UTF8.self))),
                    replacementTags: [NamedValue(name: messageIDTag, value: id)], replacementHeaders: replacementHeaders))
        }
        return try PayloadJSON.encode(
            SendBulkEmail(
                fromEmailAddress: MIMEBuilder.encodeAddress(content.from), defaultContent: .init(template: template),
                bulkEmailEntries: entries, replyToAddresses: content.replyTo.map { [MIMEBuilder.encodeAddress($0)] },
                configurationSetName: configurationSet))
    }

    // MARK: Request shapes (SES v2 API names; absent optionals are left out)

    /// The `SendEmail` request.
    struct SendEmail: Encodable {
        var fromEmailAddress: String
        var destination: Destination
        var content: Content
        var emailTags: [NamedValue]
        var configurationSetName: String?

        enum CodingKeys: String, CodingKey {
            case fromEmailAddress = "FromEmailAddress", destination = "Destination", content = "Content", emailTags = "EmailTags"
            case configurationSetName = "ConfigurationSetName"
        }

        /// `Content.Raw`.
        struct Content: Encodable {
            var raw: Raw
            enum CodingKeys: String, CodingKey { case raw = "Raw" }
        }

        /// The whole MIME message, base64.
        struct Raw: Encodable {
            var data: String
            enum CodingKeys: String, CodingKey { case data = "Data" }
        }
    }

    /// The `SendBulkEmail` request.
    struct SendBulkEmail: Encodable {
        var fromEmailAddress: String
        var defaultContent: DefaultContent
        var bulkEmailEntries: [BulkEmailEntry]
        var replyToAddresses: [String]?
        var configurationSetName: String?

        enum CodingKeys: String, CodingKey {
            case fromEmailAddress = "FromEmailAddress", defaultContent = "DefaultContent", bulkEmailEntries = "BulkEmailEntries"
            case replyToAddresses = "ReplyToAddresses", configurationSetName = "ConfigurationSetName"
        }

        /// `DefaultContent.Template`.
        struct DefaultContent: Encodable {
            var template: Template
            enum CodingKeys: String, CodingKey { case template = "Template" }
        }
    }

    /// The inline template every entry of a bulk call shares.
    struct Template: Encodable {
        var templateContent: TemplateContent
        var templateData: String
        var headers: [NamedValue]?
        var attachments: [Attachment]?

        enum CodingKeys: String, CodingKey {
            case templateContent = "TemplateContent", templateData = "TemplateData", headers = "Headers", attachments = "Attachments"
        }

        /// Subject and bodies with `{{variables}}`.
        struct TemplateContent: Encodable {
            var subject: String
            var html: String?
            var text: String?
            enum CodingKeys: String, CodingKey { case subject = "Subject", html = "Html", text = "Text" }
        }
    }

    /// A file attached to every message of a bulk call.
    struct Attachment: Encodable {
        var fileName: String
        var contentType: String
        var contentDisposition = "ATTACHMENT"
        // SES's default is SEVEN_BIT, which would break binary files.
        var contentTransferEncoding = "BASE64"
        var rawContent: String

        enum CodingKeys: String, CodingKey {
            case fileName = "FileName", contentType = "ContentType", contentDisposition = "ContentDisposition"
            case contentTransferEncoding = "ContentTransferEncoding", rawContent = "RawContent"
        }

        init(_ attachment: MessageAttachment) {
            fileName = attachment.filename
            contentType = attachment.contentType
            rawContent = attachment.data.base64EncodedString()
        }
    }

    /// One message of a bulk call: its destinations and what replaces the template's values.
    struct BulkEmailEntry: Encodable {
        var destination: Destination
        var replacementEmailContent: ReplacementEmailContent
        var replacementTags: [NamedValue]
        var replacementHeaders: [NamedValue]

        enum CodingKeys: String, CodingKey {
            case destination = "Destination", replacementEmailContent = "ReplacementEmailContent"
            case replacementTags = "ReplacementTags", replacementHeaders = "ReplacementHeaders"
        }

        /// `ReplacementEmailContent.ReplacementTemplate`.
        struct ReplacementEmailContent: Encodable {
            var replacementTemplate: ReplacementTemplate
            enum CodingKeys: String, CodingKey { case replacementTemplate = "ReplacementTemplate" }
        }

        /// The entry's template values, as a JSON object in a string.
        struct ReplacementTemplate: Encodable {
            var replacementTemplateData: String
            enum CodingKeys: String, CodingKey { case replacementTemplateData = "ReplacementTemplateData" }
        }
    }

    /// A message's recipients; empty cc and bcc lists are left out.
    struct Destination: Encodable {
        var toAddresses: [String]
        var ccAddresses: [String]?
        var bccAddresses: [String]?

        enum CodingKeys: String, CodingKey { case toAddresses = "ToAddresses", ccAddresses = "CcAddresses", bccAddresses = "BccAddresses" }

        init(_ c: MessageContent) {
            toAddresses = c.to.map(MIMEBuilder.encodeAddress)
            ccAddresses = c.cc.isEmpty ? nil : c.cc.map(MIMEBuilder.encodeAddress)
            bccAddresses = c.bcc.isEmpty ? nil : c.bcc.map(MIMEBuilder.encodeAddress)
        }
    }

    /// SES's `MessageTag` and `MessageHeader`: both a name and a value.
    struct NamedValue: Encodable {
        var name: String
        var value: String
        enum CodingKeys: String, CodingKey { case name = "Name", value = "Value" }
    }
}
