import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `/v1/health`: the key's own tenant's sender health per From domain over 1 h and 24 h, with
/// its bulk pauses (`read`); `POST /v1/health/resume` lifts them (`admin`).
struct HealthController: Sendable {
    let tenants: TenantStore
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("health") { request, context in try await self.show(request, context: context) }
        v1.post("health/resume") { request, context in try await self.resume(request, context: context) }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> SenderHealthReport {
        let key = try context.key(for: .read)
        let (health, pauses) = try await database { try await tenants.tenantHealth(key.tenantID) }
        return SenderHealthReport(tenantID: key.tenantID, health: health, pauses: pauses)
    }

    func resume(_ request: Request, context: APIRequestContext) async throws -> ResumedPauses {
        let key = try context.key(for: .admin)
        let body = try await request.decode(ResumeBody.self, limit: limits.maxSmallBodyBytes)
        let resumed = try await database { try await tenants.resumeBulk(tenantID: key.tenantID, domain: body.domain, actor: "api:\(key.keyID)") }
        return ResumedPauses(resumed: resumed.map(SenderHealthReport.Pause.init))
    }
}

extension SenderHealthReport: ResponseEncodable {}

/// The answer of `POST /v1/health/resume`: the pauses lifted (none when nothing was paused).
struct ResumedPauses: ResponseEncodable, Equatable {
    var resumed: [SenderHealthReport.Pause]
}

/// The body of `POST /v1/health/resume`: `{}` lifts every pause, `{"domain": "..."}` that domain's.
struct ResumeBody: Decodable {
    let domain: String?

    enum CodingKeys: String, CodingKey { case domain }

    init(from decoder: any Decoder) throws {
        try decoder.refuseUnknownFields(known: ["domain"])
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Domains are stored lowercased; NUL never reaches Postgres.
        domain = try c.decodeIfPresent(String.self, forKey: .domain).map { $0.lowercased() }
        if let domain, domain.isEmpty || domain.unicodeScalars.contains(where: { $0.value < 32 }) || domain.count > 255 {
            throw DecodingError.dataCorruptedError(forKey: .domain, in: c, debugDescription: "domain must be a sending domain")
        }
    }
}
