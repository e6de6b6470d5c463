import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore
import Metrics

/// The open pixel (`GET /o/{token}.gif`) and the click redirect (`GET /c/{token}`).
public struct TrackingController: Sendable {
    let signer: TrackingSigner
    let events: EventBuffer
    let machines: MachineTraffic
    let logger: Logger
    // One series per event type and source, so opens and clicks, people and machines, are apart.
    private let opened = Counted(type: "opened")
    private let clicked = Counted(type: "clicked")
    private let rejected = Telemetry.counter("tracking_invalid_tokens_total", help: "Tracking requests with a bad signature or shape")

    /// Creates the controller.
    public init(signer: TrackingSigner, events: EventBuffer, machines: MachineTraffic = MachineTraffic(), logger: Logger) {
        self.signer = signer
        self.events = events
        self.machines = machines
        self.logger = logger
    }

    /// The human and machine series of one event type.
    struct Counted {
        let human: Metrics.Counter
        let machine: Metrics.Counter

        init(type: String) {
            human = Telemetry.counter("tracking_events_total", help: "Tracking events recorded", labels: [("type", type), ("source", "human")])
            machine = Telemetry.counter("tracking_events_total", help: "Tracking events recorded", labels: [("type", type), ("source", "machine")])
        }

        func increment(machine isMachine: Bool) {
            (isMachine ? machine : human).increment()
        }
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
            let (detail, machine) = self.detail(request, token: parsed)
            events.append(NewEvent(tenantID: parsed.tenantID, messageID: parsed.messageID, type: .opened, detail: detail))
            opened.increment(machine: machine)
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
        var (detail, machine) = self.detail(request, token: parsed)
        detail["url"] = url
        events.append(NewEvent(tenantID: parsed.tenantID, messageID: parsed.messageID, type: .clicked, detail: detail))
        clicked.increment(machine: machine)
        return Response(status: .found, headers: [.location: url, .cacheControl: "no-store"])
    }

    /// The event's detail: the user agent, and `machine` with its reason when a machine made it.
    private func detail(_ request: Request, token: TrackingToken) -> (detail: [String: String], machine: Bool) {
        var detail: [String: String] = [:]
        let agent = request.headers[.userAgent]
        if let agent { detail["user_agent"] = String(agent.prefix(512)) }
        // The ingress in front of the tracker puts the client first in X-Forwarded-For. A client
        // that forges it can only make its own open look like a machine's.
        let client = request.headers[.init("X-Forwarded-For")!].flatMap { $0.split(separator: ",").first }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard let reason = machines.reason(userAgent: agent, address: client, sentAt: token.sentAt, at: Date()) else { return (detail, false) }
        detail["machine"] = "true"
        detail["machine_reason"] = reason.rawValue
        return (detail, true)
    }
}
