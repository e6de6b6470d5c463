import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// A template version as the API answers it.
struct TemplateView: ResponseEncodable, Equatable {
    var id: String
    var name: String
    var version: Int
    var subject: String
    var text: String?
    var html: String?
    var createdAt: String
    var updatedAt: String

    enum CodingKeys: String, CodingKey {
        case id, name, version, subject, text, html
        case createdAt = "created_at", updatedAt = "updated_at"
    }

    /// The view of a stored version.
    init(_ record: TemplateRecord) {
        id = record.id.lowercasedString
        name = record.name
        version = record.version
        subject = record.template.subject
        text = record.template.text
        html = record.template.html
        createdAt = ISO8601.format(record.createdAt)
        updatedAt = ISO8601.format(record.updatedAt)
    }
}

/// The answer of `GET /v1/templates`.
struct TemplateList: ResponseEncodable, Equatable {
    var templates: [TemplateView]
}

/// The answer of `POST /v1/templates/{id}/preview`: a version rendered with the given variables.
struct TemplatePreview: ResponseEncodable, Equatable {
    var templateID: String
    var version: Int
    var subject: String
    var text: String?
    var html: String?

    enum CodingKeys: String, CodingKey {
        case version, subject, text, html
        case templateID = "template_id"
    }

    init(_ record: TemplateRecord, rendered: RenderedTemplate) {
        templateID = record.id.lowercasedString
        version = record.version
        subject = rendered.subject
        text = rendered.text
        html = rendered.html
    }
}
