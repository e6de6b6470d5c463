import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// The open pixel (`GET /o/{token}.gif`) and the click redirect (`GET /c/{token}`).
public struct TrackingController: Sendable {
    let signer: TrackingSigner
    let events: EventBuffer
    let logger: Logger
    // One series per event type, so opens and clicks can be told apart.
    private let opened = Telemetry.counter("tracking_events_total", help: "Tracking events recorded", labels: [("type", "opened")])
    private let clicked = Telemetry.counter("tracking_events_total", help: "Tracking events recorded", labels: [("type", "clicked")])
    private let rejected = Telemetry.counter("tracking_invalid_tokens_total", help: "Tracking requests with a bad signature or shape")

    /// Creates the controller.
    public init(signer: TrackingSigner, events: EventBuffer, logger: Logger) {
        self.signer = signer
        self.events = events
        self.logger = logger
    }

    /// Adds the routes.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.get("/o/{token}") { request, context in await self.open(request, context: context) }
        router.get("/c/{token}") { request, context in try await self.click(request, context: context) }
    }

    /// A 1×1 transparent GIF.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func open(_ request: Request, context: some RequestContext) async -> Response {
        var token = context.parameters.get("token") ?? ""
        if token.hasSuffix(".gif") { token.removeLast(4) }
        if let parsed = signer.verify(token), parsed.kind == .open {
            events.append(NewEvent(tenantID: parsed.tenantID, messageID: parsed.messageID, type: .opened, detail: userAgentDetail(request)))
            opened.increment()
        } else {
            rejected.increment()
        }
        // Always answer with the pixel: a broken image in someone's inbox helps nobody.
        return Response(
            status: .ok,
            headers: [.contentType: "image/gif", .cacheControl: "no-store, no-cache, must-revalidate, max-age=0"],
            body: .init(byteBuffer: ByteBuffer(bytes: Self.pixel)))
    }

    func click(_ request: Request, context: some RequestContext) async throws -> Response {
        let token = context.parameters.get("token") ?? ""
        guard let parsed = signer.verify(token), parsed.kind == .click, let url = parsed.url,
              url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://") else {
            rejected.increment()
            // Never redirect on a token we did not sign: that would be an open redirect.
            return Response(
                status: .notFound, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: "{\"error\":{\"code\":\"invalid_link\",\"message\":\"this tracking link is not valid\"}}")))
        }
        var detail = userAgentDetail(request)
        detail["url"] = url
        events.append(NewEvent(tenantID: parsed.tenantID, messageID: parsed.messageID, type: .clicked, detail: detail))
        clicked.increment()
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }

    private func userAgentDetail(_ request: Request) -> [String: String] {
        var detail: [String: String] = [:]
        if let agent = request.headers[.userAgent] { detail["user_agent"] = String(agent.prefix(512)) }
        return detail
    }
}
