import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/contacts`: a tenant's contacts (docs/CAMPAIGNS.md). Reads need `read`; changes need `send`.
public struct ContactsController: Sendable {
    let store: ContactStore
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("contacts") { request, context in try await self.list(request, context: context) }
        v1.post("contacts") { request, context in try await self.upsert(request, context: context) }
        v1.get("contacts/{id}") { request, context in try await self.show(request, context: context) }
        v1.patch("contacts/{id}") { request, context in try await self.update(request, context: context) }
        v1.delete("contacts/{id}") { request, context in try await self.remove(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> ContactPage {
        let key = try context.key(for: .read)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        let after: String? = request.uri.queryParameters.get("after")
        if let after, after.unicodeScalars.count > 320 || after.unicodeScalars.contains(where: { $0.value < 32 }) {
            throw APIError.invalidParameter("after", "after must be an address from a previous page's next")
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        return ContactPage(contacts: page.map { ContactView($0) }, next: page.count == limit ? page.last?.email : nil)
    }

    /// Creates the contact (201) or merges into the one with that address (200).
    func upsert(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<ContactView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(ContactBody.self, limit: limits.maxSmallBodyBytes)
        guard body.status == nil else {
            throw APIError.invalid(FieldError(code: "unknown_field", field: "status", message: "a status belongs to a list: POST /v1/lists/{id}/members"))
        }
        let fields = try body.checked()
        let result = try await database {
            try await store.upsert(tenantID: key.tenantID, email: fields.email, attributes: fields.attributes, timeZone: fields.timeZone)
        }
        return EditedResponse(status: result.created ? .created : .ok, response: ContactView(result.contact))
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> ContactView {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        let found = try await database { () async throws -> (Contact, [Membership])? in
            guard let contact = try await store.get(tenantID: key.tenantID, id: id) else { return nil }
            return (contact, try await store.memberships(tenantID: key.tenantID, contactID: id))
        }
        guard let found else { throw APIError.notFound("contact") }
        return ContactView(found.0, memberships: found.1)
    }

    func update(_ request: Request, context: APIRequestContext) async throws -> ContactView {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let body = try await request.decode(ContactChangeBody.self, limit: limits.maxSmallBodyBytes)
        var zone: String??
        do {
            if let attributes = body.attributes { _ = try ContactFields.attributes(attributes) }
            if let given = body.timeZone { zone = .some(try ContactFields.timeZone(given)) }
        } catch {
            throw APIError.invalid(error)
        }
        guard let contact = try await database({ try await store.update(tenantID: key.tenantID, id: id, attributes: body.attributes, timeZone: zone) }) else {
            throw APIError.notFound("contact")
        }
        return ContactView(contact)
    }

    func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        guard try await database({ try await store.delete(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("contact") }
        return Response(status: .noContent)
    }

    static func id(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("contact") }
        return id
    }
}
