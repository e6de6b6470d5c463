import Foundation
import Hummingbird
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// `/v1/suppressions`: list, add, look up, remove. Reads need `read`; changes need `send`.
public struct SuppressionsController: Sendable {
    let authenticator: Authenticator
    let store: SuppressionStore

    /// Reasons a suppression may carry.
    static let reasons: Set<String> = ["manual", "bounce", "complaint", "unsubscribe"]

    /// Adds the routes to a router.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/v1/suppressions") { request, _ in try await self.list(request) }
        router.post("/v1/suppressions") { request, _ in try await self.add(request) }
        router.get("/v1/suppressions/{email}") { request, context in try await self.show(request, email: context.parameters.get("email")) }
        router.delete("/v1/suppressions/{email}") { request, context in try await self.remove(request, email: context.parameters.get("email")) }
    }

    func list(_ request: Request) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .read)
        var limit = 100
        if let text = request.uri.queryParameters.get("limit") {
            guard let number = Int(text), (1...1000).contains(number) else {
                throw APIError(.badRequest, code: "invalid_value", message: "limit must be 1 to 1000", field: "limit")
            }
            limit = number
        }
        let after: String? = request.uri.queryParameters.get("after")
        // Postgres text parameters cannot carry NUL; an address never holds control characters.
        if let after, after.utf8.count > 320 || after.unicodeScalars.contains(where: { $0.value < 32 }) {
            throw APIError(.badRequest, code: "invalid_value", message: "after must be an address from a previous page's next", field: "after")
        }
        let page = try await database { try await store.list(tenantID: key.tenantID, after: after, limit: limit) }
        var body = "{\"suppressions\":[\(page.map(Self.json).joined(separator: ","))]"
        if page.count == limit, let last = page.last { body += ",\"next\":\(JSONString.quote(last.email))" }
        return MessagesController.json(.ok, body + "}")
    }

    func add(_ request: Request) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let body = try await JSONBody.decode(SuppressionBody.self, from: request)
        let reason = body.reason ?? "manual"
        guard Self.reasons.contains(reason) else {
            throw APIError.invalid(FieldError(code: "invalid_value", field: "reason", message: "reason is one of \(Self.reasons.sorted().joined(separator: ", "))"))
        }
        let address = body.email
        let suppression = try await database { try await store.add(tenantID: key.tenantID, address: address, reason: reason) }
        return MessagesController.json(.created, Self.json(suppression))
    }

    func show(_ request: Request, email: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .read)
        let address = try Self.address(email)
        guard let found = try await database({ try await store.get(tenantID: key.tenantID, address: address) }) else {
            throw APIError.notFound("suppression")
        }
        return MessagesController.json(.ok, Self.json(found))
    }

    func remove(_ request: Request, email: String?) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        let address = try Self.address(email)
        guard try await database({ try await store.remove(tenantID: key.tenantID, address: address) }) else {
            throw APIError.notFound("suppression")
        }
        return Response(status: .noContent)
    }

    /// The address in a path segment (percent-decoded); an unparseable one is simply not found.
    static func address(_ segment: String?) throws -> EmailAddress {
        guard let text = segment?.removingPercentEncoding, let address = try? EmailAddress(email: text) else {
            throw APIError.notFound("suppression")
        }
        return address
    }

    static func json(_ suppression: Suppression) -> String {
        "{\"email\":\(JSONString.quote(suppression.email)),\"reason\":\(JSONString.quote(suppression.reason)),\"created_at\":\"\(ISO8601.format(suppression.createdAt))\"}"
    }
}

/// The body of `POST /v1/suppressions`.
struct SuppressionBody: Decodable {
    let email: EmailAddress
    let reason: String?

    enum CodingKeys: String, CodingKey { case email, reason }

    init(from decoder: any Decoder) throws {
        try JSONBody.refuseUnknownFields(decoder, known: ["email", "reason"])
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
