import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `GET /v1/fair-share`: the key's own tenant's weight in the fair share of each queue lane
/// (`read`). Only operators change it (`mailfleet tenants set-weight`): it is a decision about
/// the shared fleet, not the tenant's own (docs/FLOW.md).
struct FairShareController: Sendable {
    let tenants: TenantStore

    /// Adds the route to the `/v1` group.
    func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("fair-share") { request, context in try await self.show(request, context: context) }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> FairShareView {
        let key = try context.key(for: .read)
        guard let weight = try await database({ try await tenants.sendWeight(tenantID: key.tenantID) }) else { throw APIError.notFound("tenant") }
        return FairShareView(weight: weight)
    }
}

/// A tenant's fair-share weight as the API answers it.
struct FairShareView: ResponseEncodable, Equatable {
    var weight: Int
}
