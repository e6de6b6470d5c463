import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetStore

/// Double opt-in confirmation links (docs/CAMPAIGNS.md): `GET /confirm/{token}` answers a page with
/// a button and changes nothing (link scanners fetch every URL in a mail); `POST /confirm/{token}`
/// (the button) subscribes the pending member. Following it again is harmless.
public struct ConfirmationController: Sendable {
    let signer: ListConfirmationSigner
    let contacts: ContactStore
    let logger: Logger
    let now: @Sendable () -> Date

    /// Creates the controller.
    public init(signer: ListConfirmationSigner, contacts: ContactStore, logger: Logger, now: @escaping @Sendable () -> Date = Date.init) {
        self.signer = signer
        self.contacts = contacts
        self.logger = logger
        self.now = now
    }

    /// Adds the routes.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/confirm/{token}") { _, context in self.ask(context: context) }
        router.post("/confirm/{token}") { _, context in await self.confirm(context: context) }
    }

    /// The token's confirmation, or the page to answer instead.
    func verified(_ context: some RequestContext) -> Result<(String, ListConfirmation), PageAnswer> {
        let token = context.parameters.get("token") ?? ""
        guard let confirmation = signer.verify(token) else { return .failure(PageAnswer(.notFound, ConfirmationPage.invalid)) }
        guard confirmation.expiresAt > now() else { return .failure(PageAnswer(.gone, ConfirmationPage.expired)) }
        return .success((token, confirmation))
    }

    func ask(context: some RequestContext) -> Response {
        switch verified(context) {
        case .failure(let answer): return answer.response
        case .success(let (token, _)): return PageAnswer(.ok, ConfirmationPage.ask(action: "/confirm/\(token)")).response
        }
    }

    func confirm(context: some RequestContext) async -> Response {
        let confirmation: ListConfirmation
        switch verified(context) {
        case .failure(let answer): return answer.response
        case .success(let (_, found)): confirmation = found
        }
        do {
            switch try await contacts.confirm(tenantID: confirmation.tenantID, listID: confirmation.listID, contactID: confirmation.contactID) {
            case .confirmed(let email), .alreadySubscribed(let email): return PageAnswer(.ok, ConfirmationPage.done(address: email)).response
            case .unsubscribed: return PageAnswer(.conflict, ConfirmationPage.left).response
            case .notMember: return PageAnswer(.notFound, ConfirmationPage.invalid).response
            }
        } catch {
            logger.error("confirmation failed", metadata: ["tenant_id": "\(confirmation.tenantID.lowercasedString)", "error": "\(error)"])
            return PageAnswer(.serviceUnavailable, ConfirmationPage.unavailable).response
        }
    }
}

/// A status and an HTML page.
struct PageAnswer: Error {
    let status: HTTPResponse.Status
    let html: String

    init(_ status: HTTPResponse.Status, _ html: String) {
        self.status = status
        self.html = html
    }

    var response: Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
