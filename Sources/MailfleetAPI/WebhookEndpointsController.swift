import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/webhook-endpoints`: a tenant's webhook endpoints (docs/WEBHOOKS.md). Listing, reading
/// and the attempt log need `read`; creating, changing, deleting, rotating the secret and
/// resending need `admin`. The secret is answered only by create and rotate.
public struct WebhookEndpointsController: Sendable {
    let store: WebhookStore
    let limits: APILimits
    let egress: EgressPolicy

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("webhook-endpoints") { request, context in try await self.list(request, context: context) }
        v1.post("webhook-endpoints") { request, context in try await self.create(request, context: context) }
        v1.get("webhook-endpoints/{id}") { request, context in try await self.show(request, context: context) }
        v1.patch("webhook-endpoints/{id}") { request, context in try await self.update(request, context: context) }
        v1.delete("webhook-endpoints/{id}") { request, context in try await self.remove(request, context: context) }
        v1.post("webhook-endpoints/{id}/rotate-secret") { request, context in try await self.rotate(request, context: context) }
        v1.get("webhook-endpoints/{id}/attempts") { request, context in try await self.attempts(request, context: context) }
        v1.post("webhook-endpoints/{id}/resend") { request, context in try await self.resend(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> WebhookEndpointPage {
        let key = try context.key(for: .read)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        var after: UUID?
        if let text = request.uri.queryParameters.get("after") {
            guard let id = UUID(uuidString: String(text)) else { throw APIError.invalidParameter("after", "after must be an endpoint id from a previous page's next") }
            after = id
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        return WebhookEndpointPage(endpoints: page.map { WebhookEndpointView($0) }, next: page.count == limit ? page.last?.id.lowercasedString : nil)
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<WebhookEndpointView> {
        let key = try context.key(for: .admin)
        let body = try await request.decode(WebhookEndpointBody.self, limit: limits.maxSmallBodyBytes)
        guard let url = body.url else { throw APIError.invalid(FieldError(code: "missing_field", field: "url", message: "url is required")) }
        let types = try Self.checked(url: url, eventTypes: body.eventTypes ?? [], egress: egress)
        let endpoint = try await database {
            try await store.create(
                tenantID: key.tenantID, url: url, eventTypes: types, batch: body.batch ?? false, enabled: body.enabled ?? true, actor: "api:\(key.keyID)")
        }
        return EditedResponse(status: .created, response: WebhookEndpointView(endpoint, showingSecret: true))
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> WebhookEndpointView {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        guard let endpoint = try await database({ try await store.get(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("webhook endpoint") }
        return WebhookEndpointView(endpoint)
    }

    func update(_ request: Request, context: APIRequestContext) async throws -> WebhookEndpointView {
        let key = try context.key(for: .admin)
        let id = try Self.id(context)
        let body = try await request.decode(WebhookEndpointBody.self, limit: limits.maxSmallBodyBytes)
        if let url = body.url { _ = try Self.checked(url: url, eventTypes: [], egress: egress) }
        var types: [String]?
        if let given = body.eventTypes { types = try Self.checked(eventTypes: given) }
        let change = WebhookEndpointChange(url: body.url, eventTypes: types, enabled: body.enabled, batch: body.batch)
        guard let endpoint = try await database({ try await store.update(tenantID: key.tenantID, id: id, change: change, actor: "api:\(key.keyID)") }) else {
            throw APIError.notFound("webhook endpoint")
        }
        return WebhookEndpointView(endpoint)
    }

    func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .admin)
        let id = try Self.id(context)
        guard try await database({ try await store.delete(tenantID: key.tenantID, id: id, actor: "api:\(key.keyID)") }) else {
            throw APIError.notFound("webhook endpoint")
        }
        return Response(status: .noContent)
    }

    func rotate(_ request: Request, context: APIRequestContext) async throws -> WebhookEndpointView {
        let key = try context.key(for: .admin)
        let id = try Self.id(context)
        let buffer = try await request.collectBody(limit: limits.maxSmallBodyBytes)
        var grace = WebhookStore.defaultRotationGrace
        if buffer.readableBytes > 0 {
            let body: RotateSecretBody
            do {
                body = try JSONDecoder().decode(RotateSecretBody.self, from: Data(buffer: buffer))
            } catch let error as DecodingError {
                throw APIError(decoding: error)
            }
            if let seconds = body.graceSeconds {
                guard seconds >= 0, Double(seconds) <= WebhookStore.maxRotationGrace else {
                    throw APIError.invalid(FieldError(code: "invalid_value", field: "grace_seconds", message: "grace_seconds must be 0 to \(Int(WebhookStore.maxRotationGrace))"))
                }
                grace = Double(seconds)
            }
        }
        guard let endpoint = try await database({ try await store.rotateSecret(tenantID: key.tenantID, id: id, grace: grace, actor: "api:\(key.keyID)") }) else {
            throw APIError.notFound("webhook endpoint")
        }
        return WebhookEndpointView(endpoint, showingSecret: true)
    }

    func attempts(_ request: Request, context: APIRequestContext) async throws -> WebhookAttemptPage {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        var before: Int?
        if let text = request.uri.queryParameters.get("before") {
            guard let number = Int(String(text)), number > 0 else { throw APIError.invalidParameter("before", "before must be an attempt id from a previous page's next") }
            before = number
        }
        guard let attempts = try await database({ try await store.attempts(tenantID: key.tenantID, endpointID: id, before: before, limit: limit) }) else {
            throw APIError.notFound("webhook endpoint")
        }
        return WebhookAttemptPage(attempts: attempts.map(WebhookAttemptView.init), next: attempts.count == limit ? attempts.last.map { String($0.id) } : nil)
    }

    func resend(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<ResendAnswer> {
        let key = try context.key(for: .admin)
        let id = try Self.id(context)
        let body = try await request.decode(ResendBody.self, limit: limits.maxSmallBodyBytes)
        guard body.eventID > 0 else { throw APIError.invalid(FieldError(code: "invalid_value", field: "event_id", message: "event_id is an event's id (GET /v1/events)")) }
        switch try await database({ try await store.resend(tenantID: key.tenantID, endpointID: id, eventID: body.eventID, actor: "api:\(key.keyID)") }) {
        case .queued(let delivery): return EditedResponse(status: .accepted, response: ResendAnswer(deliveryID: String(delivery)))
        case .noEndpoint: throw APIError.notFound("webhook endpoint")
        case .noEvent: throw APIError.notFound("event")
        }
    }

    /// The `{id}` path segment; anything but a UUID is simply not found.
    static func id(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("webhook endpoint") }
        return id
    }

    static func checked(url: String, eventTypes: [String], egress: EgressPolicy) throws(APIError) -> [String] {
        do {
            try WebhookEndpoint.validate(url: url, policy: egress)
        } catch {
            throw APIError.invalid(error)
        }
        return try checked(eventTypes: eventTypes)
    }

    static func checked(eventTypes: [String]) throws(APIError) -> [String] {
        do {
            return try WebhookEndpoint.validate(eventTypes: eventTypes)
        } catch {
            throw APIError.invalid(error)
        }
    }
}

/// The body of `POST` and `PATCH /v1/webhook-endpoints`: every field optional on `PATCH`.
struct WebhookEndpointBody: Decodable {
    let url: String?
    let eventTypes: [String]?
    let enabled: Bool?
    let batch: Bool?

    enum CodingKeys: String, CodingKey { case url, eventTypes = "event_types", enabled, batch }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["url", "event_types", "enabled", "batch"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decodeIfPresent(String.self, forKey: .url)
        eventTypes = try c.decodeIfPresent([String].self, forKey: .eventTypes)
        enabled = try c.decodeIfPresent(Bool.self, forKey: .enabled)
        batch = try c.decodeIfPresent(Bool.self, forKey: .batch)
    }
}

/// The body of `POST /v1/webhook-endpoints/{id}/rotate-secret` (optional).
struct RotateSecretBody: Decodable {
    let graceSeconds: Int?

    enum CodingKeys: String, CodingKey { case graceSeconds = "grace_seconds" }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["grace_seconds"])
        graceSeconds = try decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(Int.self, forKey: .graceSeconds)
    }
}

/// The body of `POST /v1/webhook-endpoints/{id}/resend`.
struct ResendBody: Decodable {
    let eventID: Int

    enum CodingKeys: String, CodingKey { case eventID = "event_id" }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["event_id"])
        eventID = try decoder.container(keyedBy: CodingKeys.self).decode(Int.self, forKey: .eventID)
    }
}

/// The answer of a resend: the new delivery.
struct ResendAnswer: ResponseEncodable, Equatable {
    var deliveryID: String
    enum CodingKeys: String, CodingKey { case deliveryID = "delivery_id" }
}
