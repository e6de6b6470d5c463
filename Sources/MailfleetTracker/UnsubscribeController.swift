import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// RFC 8058 one-click unsubscribe: `GET /u/{token}` answers a confirmation page and changes
/// nothing (link scanners and previews fetch every URL in a message); `POST /u/{token}` (the
/// mailbox provider's one-click POST, or the page's form) suppresses the address at once.
public struct UnsubscribeController: Sendable {
    let signer: TrackingSigner
    let suppressions: SuppressionStore
    let logger: Logger
    private let unsubscribed = Telemetry.counter("tracking_events_total", help: "Tracking events recorded", labels: [("type", "unsubscribed"), ("source", "human")])
    private let rejected = Telemetry.counter("tracking_invalid_tokens_total", help: "Tracking requests with a bad signature or shape")

    /// Creates the controller.
    public init(signer: TrackingSigner, suppressions: SuppressionStore, logger: Logger) {
        self.signer = signer
        self.suppressions = suppressions
        self.logger = logger
    }

    /// Adds the routes.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/u/{token}") { _, context in self.confirm(context: context) }
        router.post("/u/{token}") { request, context in await self.unsubscribe(request, context: context) }
    }

    /// The token's message, tenant and address, or nil when it is not a valid unsubscribe token.
    func verified(_ context: some RequestContext) -> (token: String, parsed: TrackingToken, address: EmailAddress)? {
        let token = context.parameters.get("token") ?? ""
        guard let parsed = signer.verify(token), parsed.kind == .unsubscribe,
              let recipient = parsed.recipient, let address = try? EmailAddress(email: recipient) else {
            rejected.increment()
            return nil
        }
        return (token, parsed, address)
    }

    func confirm(context: some RequestContext) -> Response {
        guard let link = verified(context) else { return Self.page(.notFound, UnsubscribePage.invalid) }
        return Self.page(.ok, UnsubscribePage.confirmation(address: link.address.email, action: "/u/\(link.token)"))
    }

    func unsubscribe(_ request: Request, context: some RequestContext) async -> Response {
        // The body (`List-Unsubscribe=One-Click`, urlencoded or multipart) is not read: the
        // signed token and the POST itself are the request, whichever way it was encoded.
        guard let link = verified(context) else { return Self.page(.notFound, UnsubscribePage.invalid) }
        var detail: [String: String] = [:]
        if let agent = request.headers[.userAgent] { detail["user_agent"] = String(agent.prefix(512)) }
        do {
            let recorded = try await suppressions.unsubscribe(
                tenantID: link.parsed.tenantID, messageID: link.parsed.messageID, address: link.address, detail: detail)
            if recorded { unsubscribed.increment() }
        } catch {
            // Mailbox providers retry a one-click POST that fails; the page asks people to.
            logger.error("unsubscribe failed", metadata: [
                "message_id": "\(link.parsed.messageID.lowercasedString)", "tenant_id": "\(link.parsed.tenantID.lowercasedString)",
                "error": "\(error)",
            ])
            return Self.page(.serviceUnavailable, UnsubscribePage.unavailable)
        }
        return Self.page(.ok, UnsubscribePage.done(address: link.address.email))
    }

    private static func page(_ status: HTTPResponse.Status, _ html: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
