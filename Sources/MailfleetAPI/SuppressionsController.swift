import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/suppressions`: list, add, look up, remove. Reads need `read`; changes need `send`.
public struct SuppressionsController: Sendable {
    let store: SuppressionStore
    let limits: APILimits

    /// Reasons a suppression may carry.
    static let reasons: Set<String> = ["manual", "bounce", "complaint", SuppressionStore.unsubscribedReason]

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("suppressions") { request, context in try await self.list(request, context: context) }
        v1.post("suppressions") { request, context in try await self.add(request, context: context) }
        v1.get("suppressions/{email}") { request, context in try await self.show(request, context: context) }
        v1.delete("suppressions/{email}") { request, context in try await self.remove(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> SuppressionPage {
        let key = try context.key(for: .read)
        let limit = try PageLimit.read(request.uri.queryParameters.get("limit"), default: 100)
        let after: String? = request.uri.queryParameters.get("after")
        // Postgres text parameters cannot carry NUL; an address never holds control characters.
        // Counted in code points, as the document's maxLength counts.
        if let after, after.unicodeScalars.count > 320 || after.unicodeScalars.contains(where: { $0.value < 32 }) {
            throw APIError.invalidParameter("after", "after must be an address from a previous page's next")
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        return SuppressionPage(suppressions: page.map(SuppressionView.init), next: page.count == limit ? page.last?.email : nil)
    }

    func add(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<SuppressionView> {
        let key = try context.key(for: .send)
        let body = try await request.decode(SuppressionBody.self, limit: limits.maxSmallBodyBytes)
        let reason = body.reason ?? "manual"
        guard Self.reasons.contains(reason) else {
            throw APIError.invalid(FieldError(code: "invalid_value", field: "reason", message: "reason is one of \(Self.reasons.sorted().joined(separator: ", "))"))
        }
        let address = body.email
        let suppression = try await database { try await store.add(tenantID: key.tenantID, address: address, reason: reason) }
        return EditedResponse(status: .created, response: SuppressionView(suppression))
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> SuppressionView {
        let key = try context.key(for: .read)
        let address = try Self.address(context)
        guard let found = try await database({ try await store.get(tenantID: key.tenantID, address: address) }) else {
            throw APIError.notFound("suppression")
        }
        return SuppressionView(found)
    }

    func remove(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let address = try Self.address(context)
        guard try await database({ try await store.remove(tenantID: key.tenantID, address: address) }) else {
            throw APIError.notFound("suppression")
        }
        return Response(status: .noContent)
    }

    /// The address in the `{email}` path segment (percent-decoded); an unparseable one is simply not found.
    static func address(_ context: APIRequestContext) throws(APIError) -> EmailAddress {
        guard let text = context.parameters.get("email")?.removingPercentEncoding, let address = try? EmailAddress(email: text) else {
            throw APIError.notFound("suppression")
        }
        return address
    }
}

/// The body of `POST /v1/suppressions`.
struct SuppressionBody: Decodable {
    let email: EmailAddress
    let reason: String?

    enum CodingKeys: String, CodingKey { case email, reason }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["email", "reason"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let text = try c.decode(String.self, forKey: .email)
        do {
            email = try EmailAddress(email: text)
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .email, in: c, debugDescription: error.reason)
        }
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
    }
}
