import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `GET /v1/limits`: the key's own tenant's send limits (messages per second, the cap per
/// mailbox provider in force and where it comes from) and the warm-up of each sending domain
/// with today's cap and count (`read`). Set with `mailfleet tenants set-limits` and
/// `mailfleet tenants warmup`; docs/FLOW.md.
struct LimitsController: Sendable {
    let tenants: TenantStore
    let counter: WarmupCounter

    /// Adds the route to the `/v1` group.
    func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("limits") { request, context in try await self.show(request, context: context) }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> SendLimitsReport {
        let key = try context.key(for: .read)
        // Today's counts come from Redis; when it cannot be read they are left out, not an error.
        guard let report = try await database({ try await tenants.sendLimitsReport(tenantID: key.tenantID, counter: counter) }) else {
            throw APIError.notFound("tenant")
        }
        return report
    }
}

extension SendLimitsReport: ResponseEncodable {}
