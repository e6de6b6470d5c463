import Foundation
import Hummingbird
import Logging
import MailfleetObservability

/// A provider simulator for local runs, tests and benchmarks: SendGrid-shaped
/// `POST /v3/mail/send` with the real API's validation and limits, fault injection through
/// `POST /_control`, and counters at `GET /_stats`.
public struct ProviderSimulator: Sendable {
    /// The shared state.
    public let state: SimulatorState
    private let logger: Logger

    /// Creates a simulator.
    public init(state: SimulatorState = SimulatorState(), logger: Logger) {
        self.state = state
        self.logger = logger
    }

    /// Adds the routes.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/v3/mail/send") { request, _ in try await self.sendGrid(request) }
        router.post("/v3/{domain}/messages") { request, context in
            try await self.mailgun(request, domain: context.parameters.get("domain") ?? "")
        }
        router.post("/email/batch") { request, _ in try await self.postmark(request) }
        router.post("/v2/email/outbound-emails") { request, _ in try await self.sesSendEmail(request) }
        router.post("/v2/email/outbound-bulk-emails") { request, _ in try await self.sesSendBulkEmail(request) }
        router.get("/_recipients") { _, _ in self.recipientsResponse() }
        router.get("/_stats") { _, _ in self.statsResponse() }
        router.post("/_control") { request, _ in try await self.control(request) }
        router.post("/_reset") { _, _ in
            self.state.reset()
            return Self.json(.ok, "{\"reset\":true}")
        }
        // First arrival time (seconds since 1970) of every message, for time-to-provider figures.
        router.get("/_arrivals") { _, _ in
            let arrivals = self.state.stats.withLock { $0.firstSeen }  // read after a scenario, not during
            var body = "{"
            body.reserveCapacity(arrivals.count * 56)
            var first = true
            for (id, at) in arrivals {
                if !first { body += "," }
                first = false
                body += "\"\(id)\":\(at)"
            }
            body += "}"
            return Self.json(.ok, body)
        }
        router.get("/_messages/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            let count = self.state.stats.withLock { $0.deliveries[id] ?? 0 }
            return Self.json(.ok, "{\"id\":\(JSONString.quote(id)),\"deliveries\":\(count)}")
        }
    }

    func sendGrid(_ request: Request) async throws -> Response {
        state.stats.withLock {
            $0.calls["sendgrid", default: 0] += 1
            $0.inflight += 1
        }
        defer { state.stats.withLock { $0.inflight -= 1 } }
        var request = request
        let body = try await request.collectBody(upTo: 32 * 1024 * 1024)
        let faults = state.faults.withLock { $0 }
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if faults.outage { return rejected(503, "{\"errors\":[{\"message\":\"service unavailable\"}]}", retryAfter: faults.retryAfter) }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
            return rejected(faults.errorStatus, "{\"errors\":[{\"message\":\"injected failure\"}]}", retryAfter: faults.retryAfter)
        }
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "), auth.count > "Bearer ".count else {
            return rejected(401, "{\"errors\":[{\"message\":\"The provided authorization grant is invalid, expired, or revoked\",\"field\":null,\"help\":null}]}")
        }
        let validation = SendGridValidation.validate(Data(buffer: body))
        switch validation {
        case .failure(let error):
            return rejected(400, "{\"errors\":[{\"message\":\(JSONString.quote(error.message)),\"field\":\(JSONString.quote(error.field))}]}")
        case .success(let accepted):
            state.recordAccepted(accepted.deliveries)
            return Response(status: .accepted, headers: [.init("X-Message-Id")!: Self.messageID()], body: .init())
        }
    }

    /// Counts the call, reads its body and applies the injected faults; returns the body, or
    /// the answer a fault gives instead. Callers decrement `inflight` when done.
    func begin(_ provider: String, _ request: Request) async throws -> (body: Data, fault: Response?) {
        state.stats.withLock {
            $0.calls[provider, default: 0] += 1
            $0.inflight += 1
        }
        var request = request
        let body = Data(buffer: try await request.collectBody(upTo: 32 * 1024 * 1024))
        let faults = state.faults.withLock { $0 }
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if faults.outage { return (body, rejected(503, "{\"message\":\"service unavailable\"}", retryAfter: faults.retryAfter)) }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
            return (body, rejected(faults.errorStatus, "{\"message\":\"injected failure\"}", retryAfter: faults.retryAfter))
        }
        return (body, nil)
    }

    func end() {
        state.stats.withLock { $0.inflight -= 1 }
    }

    func recipientsResponse() -> Response {
        let variables = state.stats.withLock { $0.variables }
        let data = (try? JSONSerialization.data(withJSONObject: variables, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Self.json(.ok, String(decoding: data, as: UTF8.self))
    }

    func rejected(_ status: Int, _ body: String, retryAfter: Int? = nil) -> Response {
        state.stats.withLock { $0.rejectedCalls += 1 }
        var response = Self.json(HTTPResponse.Status(code: status), body)
        if let retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }

    func control(_ request: Request) async throws -> Response {
        var request = request
        let body = try await request.collectBody(upTo: 64 * 1024)
        do {
            let settings = try JSONDecoder().decode(FaultSettings.self, from: Data(buffer: body))
            state.faults.withLock { $0 = settings }
            logger.info("fault settings changed", metadata: ["latency_ms": "\(settings.latencyMs)", "error_rate": "\(settings.errorRate)", "outage": "\(settings.outage)"])
            return Self.json(.ok, String(decoding: try JSONEncoder().encode(settings), as: UTF8.self))
        } catch {
            return Self.json(.badRequest, "{\"error\":{\"code\":\"invalid_control\",\"message\":\(JSONString.quote("\(error)"))}}")
        }
    }

    func statsResponse() -> Response {
        // Read only scalars under the lock: copying the per-message maps would make the next
        // delivery copy them all (copy-on-write), which hurts at a million messages.
        let body = state.stats.withLock { stats in
            let calls = stats.calls.map { "\(JSONString.quote($0.key)):\($0.value)" }.joined(separator: ",")
            return """
                {"calls":{\(calls)},"accepted_calls":\(stats.acceptedCalls),"rejected_calls":\(stats.rejectedCalls),\
                "recipients":\(stats.recipients),"unique_messages":\(stats.deliveries.count),"duplicate_deliveries":\(stats.duplicateDeliveries),\
                "inflight":\(stats.inflight),"largest_batch":\(stats.largestBatch)}
                """
        }
        return Self.json(.ok, body)
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func messageID() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return String((0..<22).map { _ in alphabet.randomElement()! })
    }
}

/// The checks SendGrid's v3 mail/send applies that matter to a sender.
enum SendGridValidation {
    struct Accepted {
        var recipients: Int
        var deliveries: [SimulatedDelivery]
    }

    struct Failure: Error {
        var message: String
        var field: String
    }

    struct Body: Decodable {
        var from: Address?
        var personalizations: [Personalization]?
        var content: [Content]?
        var subject: String?
        var templateID: String?
        enum CodingKeys: String, CodingKey {
            case from, personalizations, content, subject
            case templateID = "template_id"
        }
    }

    struct Address: Decodable { var email: String? }
    struct Content: Decodable {
        var type: String?
        var value: String?
    }
    struct Personalization: Decodable {
        var to: [Address]?
        var cc: [Address]?
        var bcc: [Address]?
        var subject: String?
        var customArgs: [String: String]?
        enum CodingKeys: String, CodingKey {
            case to, cc, bcc, subject
            case customArgs = "custom_args"
        }
    }

    static func validate(_ data: Data) -> Result<Accepted, Failure> {
        let root: Body
        do {
            root = try JSONDecoder().decode(Body.self, from: data)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.contains(where: { $0.stringValue == "custom_args" }) {
            return .failure(Failure(message: "custom_args values must be strings", field: context.codingPath.map(\.stringValue).joined(separator: ".")))
        } catch {
            return .failure(Failure(message: "Bad Request: \(error)", field: ""))
        }
        guard let fromEmail = root.from?.email, fromEmail.contains("@") else {
            return .failure(Failure(message: "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.", field: "from.email"))
        }
        guard let personalizations = root.personalizations, !personalizations.isEmpty else {
            return .failure(Failure(message: "The personalizations field is required and must have at least one personalization.", field: "personalizations"))
        }
        guard personalizations.count <= 1000 else {
            return .failure(Failure(message: "The personalizations field is limited to 1000 personalizations per API request.", field: "personalizations"))
        }
        if let content = root.content {
            guard !content.isEmpty, content.allSatisfy({ $0.type != nil && !($0.value ?? "").isEmpty }) else {
                return .failure(Failure(message: "The content value must be a string at least one character in length.", field: "content"))
            }
            if content.count > 1, content.first?.type != "text/plain" {
                return .failure(Failure(message: "If present, text/plain content must be first, followed by any other content.", field: "content"))
            }
        } else if root.templateID == nil {
            return .failure(Failure(message: "Unless a valid template_id is provided, the content parameter is required.", field: "content"))
        }
        var recipients = 0
        var deliveries: [SimulatedDelivery] = []
        for (index, p) in personalizations.enumerated() {
            guard let to = p.to, !to.isEmpty else {
                return .failure(Failure(message: "The to array is required for all personalization objects, and must have at least one email object with a valid email address.", field: "personalizations.\(index).to"))
            }
            var seen = Set<String>()
            var addresses: [String] = []
            for (list, listed) in [("to", to), ("cc", p.cc ?? []), ("bcc", p.bcc ?? [])] {
                for address in listed {
                    guard let email = address.email, email.contains("@") else {
                        return .failure(Failure(message: "Does not contain a valid address.", field: "personalizations.\(index).\(list).email"))
                    }
                    guard seen.insert(email.lowercased()).inserted else {
                        return .failure(Failure(message: "Each email address in the personalization block should be unique between to, cc, and bcc.", field: "personalizations.\(index).\(list)"))
                    }
                    recipients += 1
                    addresses.append(email)
                }
            }
            if root.subject == nil && p.subject == nil && root.templateID == nil {
                return .failure(Failure(message: "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.", field: "subject"))
            }
            let variables = p.customArgs ?? [:]
            deliveries.append(SimulatedDelivery(messageID: variables["mailfleet_message_id"], recipients: addresses, variables: variables))
        }
        guard recipients <= 1000 else {
            return .failure(Failure(message: "The total number of recipients must be no more than 1000.", field: "personalizations"))
        }
        return .success(Accepted(recipients: recipients, deliveries: deliveries))
    }
}
