import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/lists`: a tenant's contact lists and their members (docs/CAMPAIGNS.md). Reads need
/// `read`; changes need `send`, like templates and suppressions. Imports and exports are in
/// `ContactListsController+Files.swift`.
public struct ContactListsController: Sendable {
    let lists: ContactListStore
    let contacts: ContactStore
    let imports: ContactImportStore
    let limits: APILimits
    /// Makes a pending member's confirmation link; nil when the API cannot sign one.
    let confirmation: (@Sendable (UUID, UUID, UUID) -> String)?

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("lists") { request, context in try await self.list(request, context: context) }
        v1.post("lists") { request, context in try await self.create(request, context: context) }
        v1.get("lists/{id}") { request, context in try await self.show(request, context: context) }
        v1.patch("lists/{id}") { request, context in try await self.update(request, context: context) }
        v1.delete("lists/{id}") { request, context in try await self.remove(request, context: context) }
        v1.get("lists/{id}/members") { request, context in try await self.members(request, context: context) }
        v1.post("lists/{id}/members") { request, context in try await self.addMember(request, context: context) }
        v1.patch("lists/{id}/members/{contact_id}") { request, context in try await self.setStatus(request, context: context) }
        v1.delete("lists/{id}/members/{contact_id}") { request, context in try await self.removeMember(request, context: context) }
        v1.post("lists/{id}/imports") { request, context in try await self.importFile(request, context: context) }
        v1.get("lists/{id}/imports") { request, context in try await self.listImports(request, context: context) }
        v1.get("lists/{id}/export") { request, context in try await self.export(request, context: context) }
        v1.get("imports/{id}") { request, context in try await self.showImport(request, context: context) }
        v1.get("imports/{id}/errors") { request, context in try await self.importErrors(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> ContactListPage {
        let key = try context.key(for: .read)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        let after: String? = request.uri.queryParameters.get("after")
        if let after, after.unicodeScalars.count > ContactList.maxNameLength || after.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw APIError.invalidParameter("after", "after must be a list name from a previous page's next")
        }
        let page = try await database { try await lists.list(tenantID: key.tenantID, after: after, limit: limit) }
        return ContactListPage(lists: page.map(ContactListView.init), next: page.count == limit ? page.last?.name : nil)
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<ContactListView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(ContactListBody.self, limit: limits.maxSmallBodyBytes)
        guard let given = body.name else { throw APIError.invalid(FieldError(code: "missing_field", field: "name", message: "name is required")) }
        let name = try Self.checked(name: given)
        let list = try await uniqueName(name) {
            try await lists.create(tenantID: key.tenantID, name: name, doubleOptIn: body.doubleOptIn ?? false, actor: "api:\(key.keyID)")
        }
        return EditedResponse(status: .created, response: ContactListView(list))
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> ContactListView {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        guard let list = try await database({ try await lists.get(tenantID: key.tenantID, id: id) }) else { throw APIError.notFound("list") }
        return ContactListView(list)
    }

    func update(_ request: Request, context: APIRequestContext) async throws -> ContactListView {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let body = try await request.decode(ContactListBody.self, limit: limits.maxSmallBodyBytes)
        let name = try body.name.map { name throws(APIError) in try Self.checked(name: name) }
        let updated = try await uniqueName(name ?? "") {
            try await lists.update(tenantID: key.tenantID, id: id, name: name, doubleOptIn: body.doubleOptIn, actor: "api:\(key.keyID)")
        }
        guard let updated else { throw APIError.notFound("list") }
        return ContactListView(updated)
    }

    func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        guard try await database({ try await lists.delete(tenantID: key.tenantID, id: id, actor: "api:\(key.keyID)") }) else { throw APIError.notFound("list") }
        return Response(status: .noContent)
    }

    func members(_ request: Request, context: APIRequestContext) async throws -> ListMemberPage {
        let key = try context.key(for: .read)
        let id = try Self.id(context)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        let after = try Self.uuidParameter(request, "after", "after must be a contact id from a previous page's next")
        var status: MembershipStatus?
        if let text = request.uri.queryParameters.get("status") {
            guard let given = MembershipStatus(rawValue: String(text)) else {
                throw APIError.invalidParameter("status", "status is one of \(MembershipStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = given
        }
        guard let page = try await database({ try await contacts.members(tenantID: key.tenantID, listID: id, status: status, after: after, limit: limit) }) else {
            throw APIError.notFound("list")
        }
        return ListMemberPage(
            members: page.map { ListMemberView($0, confirmURL: confirmation?(key.tenantID, id, $0.contact.id)) },
            next: page.count == limit ? page.last?.contact.id.lowercasedString : nil)
    }

    func addMember(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<ListMemberView> {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let body = try await request.decode(ContactBody.self, limit: limits.maxSmallBodyBytes)
        let fields = try body.checked()
        guard let member = try await database({
            try await contacts.addMember(
                tenantID: key.tenantID, listID: id, email: fields.email, attributes: fields.attributes, timeZone: fields.timeZone, status: body.status)
        }) else { throw APIError.notFound("list") }
        return EditedResponse(status: .created, response: ListMemberView(member, confirmURL: confirmation?(key.tenantID, id, member.contact.id)))
    }

    func setStatus(_ request: Request, context: APIRequestContext) async throws -> ListMemberView {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let contactID = try Self.contactID(context)
        let body = try await request.decode(MemberStatusBody.self, limit: limits.maxSmallBodyBytes)
        switch try await database({ try await contacts.setStatus(tenantID: key.tenantID, listID: id, contactID: contactID, status: body.status) }) {
        case .changed(let member): return ListMemberView(member, confirmURL: confirmation?(key.tenantID, id, contactID))
        case .notMember: throw APIError.notFound("list member")
        case .suppressed:
            throw APIError(.conflict, code: "suppressed", message: "the address is on the suppression list; remove it there first (DELETE /v1/suppressions/{email})")
        }
    }

    func removeMember(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let id = try Self.id(context)
        let contactID = try Self.contactID(context)
        guard try await database({ try await contacts.removeMember(tenantID: key.tenantID, listID: id, contactID: contactID) }) else {
            throw APIError.notFound("list member")
        }
        return Response(status: .noContent)
    }

    /// Runs a store call whose list name may clash with another of the tenant's: 409.
    func uniqueName<T: Sendable>(_ name: String, _ body: () async throws -> T) async throws(APIError) -> T {
        do {
            return try await body()
        } catch where AdminError(error)?.kind == .conflict {
            throw APIError(.conflict, code: "name_taken", message: "a list named \(ContactFields.quoted(name)) already exists", field: "name")
        } catch {
            throw APIError.unavailable(cause: error)
        }
    }

    static func checked(name: String) throws(APIError) -> String {
        do {
            return try ContactList.validName(name)
        } catch {
            throw APIError.invalid(error)
        }
    }

    /// The `{id}` path segment; anything but a UUID is simply not found.
    static func id(_ context: APIRequestContext, what: String = "list") throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound(what) }
        return id
    }

    static func contactID(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("contact_id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("list member") }
        return id
    }

    static func uuidParameter(_ request: Request, _ name: String, _ message: String) throws(APIError) -> UUID? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let id = UUID(uuidString: String(text)) else { throw APIError.invalidParameter(name, message) }
        return id
    }
}
