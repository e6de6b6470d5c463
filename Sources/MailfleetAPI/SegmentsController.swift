import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/segments`: a tenant's stored segments and counts of who a filter matches
/// (docs/CAMPAIGNS.md, "Segments"). Reading and counting need `read`; creating, changing and
/// deleting need `send`, like templates.
public struct SegmentsController: Sendable {
    let store: SegmentStore
    let limits: APILimits

    /// How many addresses a preview shows.
    static let sampleSize = 10

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("segments") { request, context in try await self.list(request, context: context) }
        v1.post("segments") { request, context in try await self.create(request, context: context) }
        v1.post("segments/preview") { request, context in try await self.preview(request, context: context) }
        v1.get("segments/{id}") { request, context in try await self.show(request, context: context) }
        v1.patch("segments/{id}") { request, context in try await self.update(request, context: context) }
        v1.delete("segments/{id}") { request, context in try await self.remove(request, context: context) }
        v1.get("segments/{id}/count") { request, context in try await self.count(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> SegmentPage {
        let key = try context.key(for: .read)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        let after = request.uri.queryParameters.get("after").map { String($0) }
        if let after, after.unicodeScalars.count > Segment.maxNameLength || after.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw APIError.invalidParameter("after", "after must be a segment name from a previous page's next")
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        return SegmentPage(segments: page.map { SegmentView($0) }, next: page.count == limit ? page.last?.name : nil)
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<SegmentView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(SegmentBody.self, limit: limits.maxSmallBodyBytes)
        guard let name = body.name else { throw APIError.invalid(FieldError(code: "missing_field", field: "name", message: "name is required")) }
        guard let given = body.filter else { throw APIError.invalid(FieldError(code: "missing_field", field: "filter", message: "filter is required")) }
        let filter = try Self.filter(given)
        try Self.check(name: name)
        switch try await database({ try await store.create(tenantID: key.tenantID, name: name, filter: filter, actor: "api:\(key.keyID)") }) {
        case .saved(let segment): return EditedResponse(status: .created, response: SegmentView(segment))
        case .nameTaken, .notFound: throw Self.nameTaken(name)
        }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> SegmentView {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        guard let segment = try await database({ try await store.get(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("segment") }
        return SegmentView(segment)
    }

    func update(_ request: Request, context: APIRequestContext) async throws -> SegmentView {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let body = try await request.decode(SegmentBody.self, limit: limits.maxSmallBodyBytes)
        let filter = try body.filter.map { value throws(APIError) in try Self.filter(value) }
        if let name = body.name { try Self.check(name: name) }
        switch try await database({ try await store.update(tenantID: key.tenantID, id: id, name: body.name, filter: filter, actor: "api:\(key.keyID)") }) {
        case .saved(let segment): return SegmentView(segment)
        case .nameTaken: throw Self.nameTaken(body.name ?? "")
        case .notFound: throw APIError.notFound("segment")
        }
    }

    func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        guard try await database({ try await store.delete(tenantID: key.tenantID, id: id, actor: "api:\(key.keyID)") }) else {
            throw APIError.notFound("segment")
        }
        return Response(status: .noContent)
    }

    func count(_ request: Request, context: APIRequestContext) async throws -> SegmentCountView {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        var listID: UUID?
        if let text = request.uri.queryParameters.get("list_id") {
            guard let id = UUID(uuidString: String(text)) else { throw APIError.invalidParameter("list_id", "list_id must be a list id (a UUID)") }
            listID = id
        }
        let found = try await database { () async throws -> SegmentStore.Preview? in
            guard let segment = try await store.get(tenantID: key.tenantID, id: id) else { return nil }
            return try await store.preview(tenantID: key.tenantID, filter: segment.filter, listID: listID, sample: Self.sampleSize)
        }
        guard let found else { throw APIError.notFound("segment") }
        return SegmentCountView(count: found.count, sample: found.sample)
    }

    func preview(_ request: Request, context: APIRequestContext) async throws -> SegmentCountView {
        let key = try context.key(for: .read)
        let body = try await request.decode(SegmentPreviewBody.self, limit: limits.maxSmallBodyBytes)
        guard let given = body.filter else { throw APIError.invalid(FieldError(code: "missing_field", field: "filter", message: "filter is required")) }
        let filter = try Self.filter(given)
        var listID: UUID?
        if let text = body.listID {
            guard let id = UUID(uuidString: text) else { throw APIError.invalid(FieldError(code: "invalid_value", field: "list_id", message: "list_id must be a list id (a UUID)")) }
            listID = id
        }
        let found = try await database { try await store.preview(tenantID: key.tenantID, filter: filter, listID: listID, sample: Self.sampleSize) }
        return SegmentCountView(count: found.count, sample: found.sample)
    }

    /// The `{id}` path segment; anything but a UUID is simply not found.
    static func id(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("segment") }
        return id
    }

    static func filter(_ json: JSONValue) throws(APIError) -> SegmentFilter {
        do {
            return try SegmentFilter(json: json)
        } catch {
            throw APIError.invalid(error)
        }
    }

    static func check(name: String) throws(APIError) {
        if let problem = Segment.problem(withName: name) { throw APIError.invalid(FieldError(code: "invalid_value", field: "name", message: problem)) }
    }

    static func nameTaken(_ name: String) -> APIError {
        APIError(.conflict, code: "name_taken", message: "the tenant already has a segment named \"\(name)\"", field: "name")
    }
}

/// The body of `POST` and `PATCH /v1/segments`: both fields required on `POST`, optional on `PATCH`.
struct SegmentBody: Decodable {
    let name: String?
    let filter: JSONValue?

    enum CodingKeys: String, CodingKey { case name, filter }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["name", "filter"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decodeIfPresent(String.self, forKey: .name)
        filter = try c.decodeIfPresent(JSONValue.self, forKey: .filter)
    }
}

/// The body of `POST /v1/segments/preview`.
struct SegmentPreviewBody: Decodable {
    let filter: JSONValue?
    let listID: String?

    enum CodingKeys: String, CodingKey { case filter, listID = "list_id" }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["filter", "list_id"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        filter = try c.decodeIfPresent(JSONValue.self, forKey: .filter)
        listID = try c.decodeIfPresent(String.self, forKey: .listID)
    }
}
