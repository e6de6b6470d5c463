import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/sequences`: create, list and show drip sequences, enrol a contact, and list who is
/// where (`/v1/sequences/{id}/enrollments`, `/v1/contacts/{id}/sequences`). Reads need the
/// `read` scope; the rest `send`.
public struct SequencesController: Sendable {
    let store: SequenceStore
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.post("sequences") { request, context in try await self.create(request, context: context) }
        v1.get("sequences") { request, context in try await self.list(request, context: context) }
        v1.get("sequences/{id}") { request, context in try await self.show(request, context: context) }
        v1.post("sequences/{id}/enrollments") { request, context in try await self.enroll(request, context: context) }
        v1.get("sequences/{id}/enrollments") { request, context in try await self.enrollments(request, context: context) }
        v1.get("contacts/{id}/sequences") { request, context in try await self.contactSequences(request, context: context) }
    }

    func create(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<SequenceView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(SequenceDefinition.self, limit: limits.maxSmallBodyBytes)
        var sequence = body.sequence(tenantID: key.tenantID)
        do {
            sequence.steps = try await store.copyingTemplates(into: sequence.steps, tenantID: key.tenantID)
        } catch let refusal as SequenceStore.TemplateRefusal {
            throw APIError.invalid(refusal.problem)
        } catch {
            throw APIError.unavailable(cause: error)
        }
        if let problem = sequence.validate().first { throw APIError.invalid(problem) }
        do {
            let created = try await store.create(sequence, actor: "api:\(key.keyID)")
            return EditedResponse(status: .created, response: SequenceView(created, counts: [:]))
        } catch SequenceStore.CreateRefusal.noList {
            throw APIError.invalid(FieldError(code: "list_not_found", field: "list_id", message: "no list \(body.listID?.lowercasedString ?? "")"))
        } catch SequenceStore.CreateRefusal.nameTaken {
            throw APIError(.conflict, code: "name_taken", message: "the tenant already has a sequence named \"\(body.name)\"", field: "name")
        } catch {
            throw APIError.unavailable(cause: error)
        }
    }

    /// A page of the tenant's sequences by name: `limit` (1 to 1,000, default 100), `after` a previous page's `next`.
    func list(_ request: Request, context: APIRequestContext) async throws -> SequencePage {
        let key = try context.key(for: .read)
        let query = request.uri.queryParameters
        let limit = try PageLimit.read(query.get("limit"), default: 100)
        let after = query.get("after").map { String($0) }
        // Postgres text holds no NUL, and no name is longer than 200 characters.
        if let after, after.unicodeScalars.count > 200 || after.unicodeScalars.contains(where: { $0.value == 0 }) {
            throw APIError.invalidParameter("after", "after must be a sequence name from a previous page's next")
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        return SequencePage(sequences: page.map { SequenceView($0, counts: nil) }, next: page.count == limit ? page.last?.name : nil)
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> SequenceView {
        let key = try context.key(for: .read)
        let id = try Self.sequenceID(context)
        guard let sequence = try await database({ try await store.sequence(id: id, tenantID: key.tenantID) }) else { throw APIError.notFound("sequence") }
        return SequenceView(sequence, counts: try await database { try await store.counts(id: id, tenantID: key.tenantID) })
    }

    /// Enrols a contact by `contact_id` or `email`: 201 with the new enrollment, 200 with the
    /// one it already has (a contact enters a sequence once), 422 `contact_not_found`, or 422
    /// `contact_not_subscribed` for a pending member of the trigger list.
    func enroll(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<EnrollmentView> {
        let key = try context.key(for: .send)
        let id = try Self.sequenceID(context)
        let body = try await request.decode(EnrollmentBody.self, limit: limits.maxSmallBodyBytes)
        switch try await database({ try await store.enroll(sequenceID: id, tenantID: key.tenantID, contact: body.contact, actor: "api:\(key.keyID)") }) {
        case .noSequence:
            throw APIError.notFound("sequence")
        case .noContact:
            throw APIError.invalid(FieldError(code: "contact_not_found", field: body.field, message: "the tenant has no such contact"))
        case .notSubscribed:
            throw APIError.invalid(FieldError(
                code: "contact_not_subscribed", field: body.field,
                message: "the contact has not confirmed its subscription to the sequence's list; confirming enrols it"))
        case .enrolled(let enrollment, let created):
            return EditedResponse(status: created ? .created : .ok, response: EnrollmentView(enrollment))
        }
    }

    /// A page of a sequence's enrollments in contact-id order: `state` narrows it, `limit`
    /// sizes it, `after` continues from a previous page's `next`.
    func enrollments(_ request: Request, context: APIRequestContext) async throws -> EnrollmentPage {
        let key = try context.key(for: .read)
        let id = try Self.sequenceID(context)
        let query = request.uri.queryParameters
        let limit = try PageLimit.read(query.get("limit"), default: 100)
        var state: SequenceEnrollment.State?
        if let text = query.get("state") {
            guard let value = SequenceEnrollment.State(rawValue: text) else {
                throw APIError.invalidParameter("state", "state is one of \(SequenceEnrollment.State.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = value
        }
        var after: UUID?
        if let text = query.get("after") {
            guard let value = UUID(uuidString: text) else { throw APIError.invalidParameter("after", "after must be the next of a previous page") }
            after = value
        }
        guard let page = try await database({ try await store.enrollments(sequenceID: id, tenantID: key.tenantID, state: state, after: after, limit: limit) })
        else { throw APIError.notFound("sequence") }
        return EnrollmentPage(enrollments: page.map(EnrollmentView.init), next: page.count == limit ? page.last?.contactID.lowercasedString : nil)
    }

    /// Every sequence a contact is or was in.
    func contactSequences(_ request: Request, context: APIRequestContext) async throws -> EnrollmentPage {
        let key = try context.key(for: .read)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("contact") }
        guard let all = try await database({ try await store.enrollments(contactID: id, tenantID: key.tenantID) }) else { throw APIError.notFound("contact") }
        return EnrollmentPage(enrollments: all.map(EnrollmentView.init), next: nil)
    }

    /// The `{id}` of the path; one that is not a UUID names no sequence.
    static func sequenceID(_ context: APIRequestContext) throws(APIError) -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("sequence") }
        return id
    }
}

/// The body of `POST /v1/sequences/{id}/enrollments`: one of `contact_id` and `email`.
struct EnrollmentBody: Decodable {
    let contact: SequenceStore.ContactReference

    /// The field that named the contact, for errors about it.
    var field: String {
        if case .id = contact { "contact_id" } else { "email" }
    }

    enum CodingKeys: String, CodingKey {
        case email
        case contactID = "contact_id"
    }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["contact_id", "email"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch (try c.decodeIfPresent(String.self, forKey: .contactID), try c.decodeIfPresent(String.self, forKey: .email)) {
        case (let id?, nil):
            guard let uuid = UUID(uuidString: id) else {
                throw DecodingError.dataCorruptedError(forKey: .contactID, in: c, debugDescription: "contact_id must be a contact id (a UUID)")
            }
            contact = .id(uuid)
        case (nil, let email?):
            guard let address = try? EmailAddress(email: email) else {
                throw DecodingError.dataCorruptedError(forKey: .email, in: c, debugDescription: "email must be an email address")
            }
            contact = .email(address.email)
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: [CodingKeys.contactID], debugDescription: "give contact_id or email (one of them)"))
        }
    }
}
