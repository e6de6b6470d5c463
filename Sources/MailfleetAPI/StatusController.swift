import Foundation
import Hummingbird
import MailfleetCore

/// The operator's live status page: `GET /status` (the page: HTML with its CSS and script
/// inline, no external assets, so it works offline) and `GET /status.json` (the snapshot the
/// page polls once a second). Both need the operator credential (`StatusAccess`); they sit
/// outside `/v1`, so tenant authentication and rate limits do not apply, and like `/healthz`
/// and `/metrics` they are not part of the tenant API's OpenAPI document. They exist only when
/// `MAILFLEET_STATUS_TOKEN` is set; otherwise both answer 404.
struct StatusController: Sendable {
    let access: StatusAccess
    let board: StatusBoard

    /// Adds both routes to the root of the router.
    func addRoutes(to router: Router<APIRequestContext>) {
        router.get("status") { request, _ in
            try access.check(request)
            return Self.response(StatusPage.html, contentType: "text/html; charset=utf-8")
        }
        router.get("status.json") { request, _ in
            try access.check(request)
            let body = try JSONEncoder().encode(await board.snapshot())
            return Self.response(String(decoding: body, as: UTF8.self), contentType: "application/json")
        }
    }

    private static func response(_ body: String, contentType: String) -> Response {
        var headers: HTTPFields = [.contentType: contentType, .cacheControl: "no-store"]
        // The page loads nothing from elsewhere and talks only to this origin.
        headers[.contentSecurityPolicy] =
            "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'none'"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
