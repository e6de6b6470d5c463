import Foundation
import Hummingbird
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// `/v1/templates`: create, list, get, new version, delete, preview. Reads need the `read`
/// scope; changes and previews need `send`.
public struct TemplatesController: Sendable {
    let authenticator: Authenticator
    let store: TemplateStore

    /// Adds the routes to a router.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/v1/templates") { request, _ in try await self.create(request) }
        router.get("/v1/templates") { request, _ in try await self.list(request) }
        router.get("/v1/templates/{id}") { request, context in try await self.show(request, id: context.parameters.get("id")) }
        router.post("/v1/templates/{id}/versions") { request, context in try await self.addVersion(request, id: context.parameters.get("id")) }
        router.delete("/v1/templates/{id}") { request, context in try await self.delete(request, id: context.parameters.get("id")) }
        router.post("/v1/templates/{id}/preview") { request, context in try await self.preview(request, id: context.parameters.get("id")) }
    }

    func create(_ request: Request) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let body = try await JSONBody.decode(TemplateBody.self, from: request)
        guard let name = body.name else { throw APIError.invalid(FieldError(code: "missing_field", field: "name", message: "name is required")) }
        if name.isEmpty || name.utf8.count > 200 || name.containsLineBreakOrNUL {
            throw APIError.invalid(FieldError(code: "invalid_value", field: "name", message: "name must be 1 to 200 bytes on one line"))
        }
        if let problem = body.template.validate().first { throw APIError.invalid(problem) }
        let record = try await database { try await store.create(tenantID: key.tenantID, name: name, template: body.template) }
        return MessagesController.json(.created, Self.json(record))
    }

    func list(_ request: Request) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .read)
        let records = try await database { try await store.list(tenantID: key.tenantID) }
        return MessagesController.json(.ok, "{\"templates\":[\(records.map(Self.json).joined(separator: ","))]}")
    }

    func show(_ request: Request, id: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .read)
        let id = try Self.templateID(id)
        var version: Int?
        if let text = request.uri.queryParameters.get("version") {
            guard let number = Int(text), number >= 1, number <= Int(Int32.max) else {
                throw APIError(.badRequest, code: "invalid_value", message: "version must be a positive integer", field: "version")
            }
            version = number
        }
        let chosen = version
        guard let record = try await database({ try await store.get(tenantID: key.tenantID, id: id, version: chosen) }) else {
            throw APIError.notFound("template")
        }
        return MessagesController.json(.ok, Self.json(record))
    }

    func addVersion(_ request: Request, id: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let id = try Self.templateID(id)
        let body = try await JSONBody.decode(TemplateBody.self, from: request)
        if body.name != nil {
            throw APIError.invalid(FieldError(code: "unknown_field", field: "name", message: "a version holds subject, text and html; the name does not change"))
        }
        if let problem = body.template.validate().first { throw APIError.invalid(problem) }
        guard let record = try await database({ try await store.addVersion(tenantID: key.tenantID, id: id, template: body.template) }) else {
            throw APIError.notFound("template")
        }
        return MessagesController.json(.created, Self.json(record))
    }

    func delete(_ request: Request, id: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let id = try Self.templateID(id)
        guard try await database({ try await store.delete(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("template") }
        return Response(status: .noContent)
    }

    func preview(_ request: Request, id: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let id = try Self.templateID(id)
        let body = try await JSONBody.decode(PreviewBody.self, from: request)
        let version = body.version
        guard let record = try await database({ try await store.get(tenantID: key.tenantID, id: id, version: version) }) else {
            throw APIError.notFound("template")
        }
        let rendered: RenderedTemplate
        do {
            rendered = try record.template.render(variables: body.variables ?? .object([:]))
        } catch {
            throw APIError.invalid(FieldError(code: "template_render_failed", field: error.field, message: error.message))
        }
        var fields = ["\"template_id\":\"\(record.id.lowercasedString)\"", "\"version\":\(record.version)", "\"subject\":\(JSONString.quote(rendered.subject))"]
        if let text = rendered.text { fields.append("\"text\":\(JSONString.quote(text))") }
        if let html = rendered.html { fields.append("\"html\":\(JSONString.quote(html))") }
        return MessagesController.json(.ok, "{" + fields.joined(separator: ",") + "}")
    }

    static func templateID(_ text: String?) throws -> UUID {
        guard let text, let id = UUID(uuidString: text) else { throw APIError.notFound("template") }
        return id
    }

    static func json(_ record: TemplateRecord) -> String {
        var fields = [
            "\"id\":\"\(record.id.lowercasedString)\"", "\"name\":\(JSONString.quote(record.name))", "\"version\":\(record.version)",
            "\"subject\":\(JSONString.quote(record.template.subject))",
        ]
        if let text = record.template.text { fields.append("\"text\":\(JSONString.quote(text))") }
        if let html = record.template.html { fields.append("\"html\":\(JSONString.quote(html))") }
        fields.append("\"created_at\":\"\(ISO8601.format(record.createdAt))\"")
        fields.append("\"updated_at\":\"\(ISO8601.format(record.updatedAt))\"")
        return "{" + fields.joined(separator: ",") + "}"
    }
}

/// The body of `POST /v1/templates` and `POST /v1/templates/{id}/versions`.
struct TemplateBody: Decodable {
    let name: String?
    let template: MessageTemplate

    enum CodingKeys: String, CodingKey { case name, subject, text, html }

    init(from decoder: any Decoder) throws {
        try JSONBody.refuseUnknownFields(decoder, known: ["name", "subject", "text", "html"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        template = MessageTemplate(
            subject: try c.decode(String.self, forKey: .subject), text: try c.decodeIfPresent(String.self, forKey: .text),
            html: try c.decodeIfPresent(String.self, forKey: .html))
    }
}

/// The body of `POST /v1/templates/{id}/preview`.
struct PreviewBody: Decodable {
    let variables: JSONValue?
    let version: Int?

    enum CodingKeys: String, CodingKey { case variables, version }

    init(from decoder: any Decoder) throws {
        try JSONBody.refuseUnknownFields(decoder, known: ["variables", "version"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        variables = try c.decodeIfPresent(JSONValue.self, forKey: .variables)
        if let variables, case .object = variables {} else if variables != nil {
            throw DecodingError.dataCorruptedError(forKey: .variables, in: c, debugDescription: "variables must be a JSON object")
        }
        version = try c.decodeIfPresent(Int.self, forKey: .version)
        if let version, version < 1 || version > Int(Int32.max) {
            throw DecodingError.dataCorruptedError(forKey: .version, in: c, debugDescription: "version must be a positive integer")
        }
    }
}
