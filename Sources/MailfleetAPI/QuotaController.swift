import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `GET /v1/quota`: the key's tenant's daily and monthly quotas, what it has used of them and
/// when each resets (UTC periods).
struct QuotaController: Sendable {
    let tenants: TenantStore

    /// Adds the route to the `/v1` group.
    func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("quota") { request, context in try await self.show(request, context: context) }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> QuotaView {
        let key = try context.key(for: .read)
        guard let usage = try await database({ try await tenants.quotaUsage(tenantID: key.tenantID) }) else { throw APIError.notFound("tenant") }
        return QuotaView(usage)
    }
}

/// The answer of `GET /v1/quota`.
struct QuotaView: ResponseEncodable, Equatable {
    /// One period's standing; `limit` and `remaining` are null when it is unlimited.
    struct Period: Encodable, Equatable {
        var limit: Int?
        var used: Int
        var remaining: Int?
        var resetsAt: String

        enum CodingKeys: String, CodingKey { case limit, used, remaining, resetsAt = "resets_at" }

        init(_ usage: QuotaUsage) {
            limit = usage.limit
            used = usage.used
            remaining = usage.remaining
            resetsAt = ISO8601.format(usage.resetsAt)
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            // Explicit nulls: "unlimited" is an answer, not a missing field.
            try c.encode(limit, forKey: .limit)
            try c.encode(used, forKey: .used)
            try c.encode(remaining, forKey: .remaining)
            try c.encode(resetsAt, forKey: .resetsAt)
        }
    }

    var daily: Period
    var monthly: Period

    init(_ usage: [QuotaUsage]) {
        let byPeriod = Dictionary(uniqueKeysWithValues: usage.map { ($0.period, $0) })
        daily = Period(byPeriod[.daily]!)
        monthly = Period(byPeriod[.monthly]!)
    }
}

extension APIError {
    /// 429 `quota_exceeded`: the request would take the tenant past a quota; nothing of it was
    /// stored. `Retry-After` points at the period's end.
    static func quotaExceeded(_ refusal: QuotaRefusal, now: Date) -> APIError {
        var error = APIError(.tooManyRequests, code: "quota_exceeded", message: refusal.message)
        error.headers[.retryAfter] = "\(refusal.retryAfterSeconds(from: now))"
        return error
    }
}
