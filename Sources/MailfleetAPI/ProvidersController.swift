import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetStore

/// `GET /v1/providers`: the key's own tenant's provider chain, in order, with each account's
/// circuit breaker as the fleet sees it and the URL its provider posts webhooks to. Needs
/// `read`. Secrets and settings are never shown, except the webhook secret to an `admin` key
/// (the tenant pastes it into the provider's console).
public struct ProvidersController: Sendable {
    let tenants: TenantStore
    let breakers: CircuitBreakerStore
    let trackerURL: String
    let logger: Logger

    /// Adds the route to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.get("providers") { request, context in try await self.list(request, context: context) }
    }

    func list(_ request: Request, context: APIRequestContext) async throws -> ProviderList {
        let key = try context.key(for: .read)
        let chain = try await database { try await tenants.providerChain(tenantID: key.tenantID) }
        // The accounts come from Postgres; a Redis outage only makes their circuits unknown.
        let states: [UUID: CircuitBreaker.State]?
        do {
            states = try await breakers.states(accounts: chain.map(\.id))
        } catch {
            logger.warning("circuit breakers unreadable; listing providers without them", metadata: ["error": "\(error)"])
            states = nil
        }
        let admin = key.scopes.contains(.admin)
        return ProviderList(providers: chain.map { account in
            var view = ProviderView(account, circuit: CircuitView(states.map { $0[account.id] ?? CircuitBreaker.State() }))
            // Postmark's URL carries its secret, so a read key sees it without the credentials.
            var shown = account
            if !admin { shown.webhookSecret = nil }
            view.webhookURL = shown.webhookURL(trackerBaseURL: trackerURL)
            if admin { view.webhookSecret = account.webhookPath == nil ? nil : account.webhookSecret }
            return view
        })
    }
}

/// A provider account as the API answers it (never its secret or settings).
struct ProviderView: Encodable, Equatable {
    var id: String
    var name: String
    var kind: String
    var priority: Int
    var endpoint: String?
    var circuit: CircuitView
    var webhookURL: String?
    var webhookSecret: String?

    enum CodingKeys: String, CodingKey {
        case id, name, kind, priority, endpoint, circuit
        case webhookURL = "webhook_url", webhookSecret = "webhook_secret"
    }

    init(_ account: ProviderAccount, circuit: CircuitView) {
        id = account.id.lowercasedString
        name = account.name
        kind = account.kind.rawValue
        priority = account.priority
        endpoint = account.endpoint
        self.circuit = circuit
    }
}

/// An account's circuit breaker: its state, when it last changed and, while open, until when.
struct CircuitView: Encodable, Equatable {
    var state: String
    var changedAt: String?
    var openUntil: String?

    enum CodingKeys: String, CodingKey {
        case state
        case changedAt = "changed_at"
        case openUntil = "open_until"
    }

    /// From the fleet's state; nil (Redis unreachable) is `unknown`.
    init(_ state: CircuitBreaker.State?) {
        guard let state else {
            self.state = "unknown"
            return
        }
        self.state = state.phase.name
        changedAt = state.changedAtMs > 0 ? Self.time(state.changedAtMs) : nil
        openUntil = state.phase == .open ? Self.time(state.openUntilMs) : nil
    }

    private static func time(_ ms: Int) -> String { ISO8601.format(Date(timeIntervalSince1970: Double(ms) / 1000)) }
}

/// The answer of `GET /v1/providers`: the chain, first account first.
struct ProviderList: ResponseEncodable, Equatable {
    var providers: [ProviderView]
}
