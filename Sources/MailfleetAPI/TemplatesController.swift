import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/templates`: create, list, get, new version, delete, preview. Reads need the `read`
/// scope; changes and previews need `send`.
public struct TemplatesController: Sendable {
    let store: TemplateStore
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.post("templates") { request, context in try await self.create(request, context: context) }
        v1.get("templates") { request, context in try await self.list(request, context: context) }
        v1.get("templates/{id}") { request, context in try await self.show(request, context: context) }
        v1.post("templates/{id}/versions") { request, context in try await self.addVersion(request, context: context) }
        v1.delete("templates/{id}") { request, context in try await self.delete(request, context: context) }
        v1.post("templates/{id}/preview") { request, context in try await self.preview(request, context: context) }
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<TemplateView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(TemplateBody.self, limit: limits.maxSmallBodyBytes)
        guard let name = body.name else { throw APIError.invalid(FieldError(code: "missing_field", field: "name", message: "name is required")) }
        // Counted in code points, as JSON Schema's maxLength counts (the document says 200).
        if name.isEmpty || name.unicodeScalars.count > 200 || name.containsLineBreakOrNUL {
            throw APIError.invalid(FieldError(code: "invalid_value", field: "name", message: "name must be 1 to 200 characters on one line"))
        }
        if let problem = body.template.validate().first { throw APIError.invalid(problem) }
        let record = try await database { try await store.create(tenantID: key.tenantID, name: name, template: body.template) }
        return EditedResponse(status: .created, response: TemplateView(record))
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> TemplateList {
        let key = try context.key(for: .read)
        let records = try await database { try await store.list(tenantID: key.tenantID) }
        return TemplateList(templates: records.map(TemplateView.init))
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> TemplateView {
        let key = try context.key(for: .read)
        let id = try Self.templateID(context)
        var version: Int?
        if let text = request.uri.queryParameters.get("version") {
            guard let number = Int(text), number >= 1, number <= Int(Int32.max) else {
                throw APIError.invalidParameter("version", "version must be a positive integer")
            }
            version = number
        }
        return TemplateView(try await record(tenantID: key.tenantID, id: id, version: version))
    }

    func addVersion(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<TemplateView> {
        let key = try context.key(for: .send)
        let id = try Self.templateID(context)
        let body = try await request.decode(TemplateBody.self, limit: limits.maxSmallBodyBytes)
        if body.namesTemplate {
            throw APIError.invalid(FieldError(code: "unknown_field", field: "name", message: "a version holds subject, text and html; the name does not change"))
        }
        if let problem = body.template.validate().first { throw APIError.invalid(problem) }
        guard let record = try await database({ try await store.addVersion(tenantID: key.tenantID, id: id, template: body.template) }) else {
            throw APIError.notFound("template")
        }
        return EditedResponse(status: .created, response: TemplateView(record))
    }

    func delete(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let id = try Self.templateID(context)
        guard try await database({ try await store.delete(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("template") }
        return Response(status: .noContent)
    }

    func preview(_ request: Request, context: APIRequestContext) async throws -> TemplatePreview {
        let key = try context.key(for: .send)
        let id = try Self.templateID(context)
        let body = try await request.decode(PreviewBody.self, limit: limits.maxSmallBodyBytes)
        let record = try await record(tenantID: key.tenantID, id: id, version: body.version)
        let rendered: RenderedTemplate
        do {
            rendered = try record.template.render(variables: body.variables ?? .object([:]))
        } catch {
            throw APIError.invalid(FieldError(code: "template_render_failed", field: error.field, message: error.message))
        }
        return TemplatePreview(record, rendered: rendered)
    }

    /// The template at `version` (the latest when nil): 404 when the tenant has no such
    /// template; when it has, a version it does not have is a refused value (422 naming
    /// `version`), since the resource the path names exists.
    func record(tenantID: UUID, id: UUID, version: Int?) async throws -> TemplateRecord {
        if let record = try await database({ try await store.get(tenantID: tenantID, id: id, version: version) }) { return record }
        guard let version, let latest = try await database({ try await store.get(tenantID: tenantID, id: id) }) else {
            throw APIError.notFound("template")
        }
        throw APIError.invalid(FieldError(
            code: "invalid_value", field: "version", message: "the template has versions 1 to \(latest.version), not \(version)"))
    }

    /// The `{id}` of the path; one that is not a UUID names no template.
    static func templateID(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("template") }
        return id
    }
}

/// The body of `POST /v1/templates` and `POST /v1/templates/{id}/versions`.
struct TemplateBody: Decodable {
    let name: String?
    /// Whether the body has a `name` field at all (even `null`): a version must not.
    let namesTemplate: Bool
    let template: MessageTemplate

    enum CodingKeys: String, CodingKey { case name, subject, text, html }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["name", "subject", "text", "html"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        namesTemplate = c.contains(.name)
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
        try decoder.refuseUnknownFields(known: ["variables", "version"])
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
