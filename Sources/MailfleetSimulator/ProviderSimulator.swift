import Foundation
import Hummingbird
import Logging

/// A provider simulator for local runs, tests and benchmarks: SendGrid-shaped
/// `POST /v3/mail/send` with the real API's validation and limits, fault injection through
/// `POST /_control`, and counters at `GET /_stats`. Per-message records (arrivals, deliveries per
/// id, recipients' variables) are kept only as far as the state's `SimulatorRecording` says;
/// reading records that are not kept answers 409.
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
        router.get("/_recipients") { _, _ in self.recordsResponse(self.state.recipientVariables()) }
        router.get("/_stats") { _, _ in self.statsResponse() }
        router.post("/_control") { request, _ in try await self.control(request) }
        router.post("/_reset") { _, _ in
            self.state.reset()
            return Self.json(.ok, SimulatorAnswer.Reset())
        }
        // First arrival time (seconds since 1970) of every message, for time-to-provider figures.
        // Read after a scenario, not during: the copy makes the next delivery copy the map.
        router.get("/_arrivals") { _, _ in self.recordsResponse(self.state.arrivals()) }
        router.get("/_messages/{id}") { _, context in
            let id = context.parameters.get("id") ?? ""
            return self.recordsResponse(self.state.deliveries(of: id).map { SimulatorAnswer.Deliveries(id: id, deliveries: $0) })
        }
    }

    func sendGrid(_ request: Request) async throws -> Response {
        state.recordCall("sendgrid")
        defer { state.stats.withLock { $0.inflight -= 1 } }
        var request = request
        let body = try await request.collectBody(upTo: 32 * 1024 * 1024)
        let faults = state.faults.withLock { $0 }
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if faults.outage { return rejected(503, SimulatorAnswer.SendGridErrors("service unavailable"), retryAfter: faults.retryAfter) }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
            return rejected(faults.errorStatus, SimulatorAnswer.SendGridErrors("injected failure"), retryAfter: faults.retryAfter)
        }
        guard let auth = request.headers[.authorization], auth.hasPrefix("Bearer "), auth.count > "Bearer ".count else {
            return rejected(401, SimulatorAnswer.SendGridErrors("The provided authorization grant is invalid, expired, or revoked"))
        }
        let validation = SendGridValidation.validate(Data(buffer: body))
        switch validation {
        case .failure(let error):
            return rejected(400, SimulatorAnswer.SendGridErrors(error.message, field: error.field))
        case .success(let accepted):
            return answerAccepted(accepted.deliveries, Response(status: .accepted, headers: [.init("X-Message-Id")!: Self.messageID()], body: .init()))
        }
    }

    /// Records accepted deliveries and returns `answer`, or, under `accept_then_fail_rate`,
    /// a 500 instead: the mail went out but the sender does not learn it.
    func answerAccepted(_ deliveries: [SimulatedDelivery], _ answer: Response) -> Response {
        state.recordAccepted(deliveries)
        let rate = state.faults.withLock { $0.acceptThenFailRate }
        guard rate > 0, !deliveries.isEmpty, Double.random(in: 0..<1) < rate else { return answer }
        state.stats.withLock {
            $0.lostAnswers += 1
            $0.lostAnswerMessages += deliveries.filter { $0.messageID != nil }.count
        }
        return rejected(500, SimulatorAnswer.Message(message: "internal error after accepting"))
    }

    /// Counts the call, reads its body and applies the injected faults; returns the body, or
    /// the answer a fault gives instead. Callers decrement `inflight` when done.
    func begin(_ provider: String, _ request: Request) async throws -> (body: Data, fault: Response?) {
        state.recordCall(provider)
        var request = request
        let body = Data(buffer: try await request.collectBody(upTo: 32 * 1024 * 1024))
        let faults = state.faults.withLock { $0 }
        if faults.latencyMs > 0 { try? await Task.sleep(for: .milliseconds(faults.latencyMs)) }
        if faults.outage { return (body, rejected(503, SimulatorAnswer.Message(message: "service unavailable"), retryAfter: faults.retryAfter)) }
        if faults.errorRate > 0, Double.random(in: 0..<1) < faults.errorRate {
            return (body, rejected(faults.errorStatus, SimulatorAnswer.Message(message: "injected failure"), retryAfter: faults.retryAfter))
        }
        return (body, nil)
    }

    func end() {
        state.stats.withLock { $0.inflight -= 1 }
    }

    /// Records as JSON, or 409 saying which recording the read needs (an empty answer would let
    /// a test that forgot to turn recording on pass or fail for the wrong reason).
    func recordsResponse(_ records: Result<some Encodable, RecordingOff>) -> Response {
        switch records {
        case .success(let value): return Self.json(.ok, value)
        case .failure(let off): return Self.json(.conflict, SimulatorAnswer.Failure(code: "recording_off", message: off.message))
        }
    }

    func rejected(_ status: Int, _ body: some Encodable, retryAfter: Int? = nil) -> Response {
        state.stats.withLock { $0.rejectedCalls += 1 }
        var response = Self.json(HTTPResponse.Status(code: status), body)
        if let retryAfter { response.headers[.retryAfter] = "\(retryAfter)" }
        return response
    }

    func control(_ request: Request) async throws -> Response {
        var request = request
        let body = Data(buffer: try await request.collectBody(upTo: 64 * 1024))
        do {
            let settings = try JSONDecoder().decode(FaultSettings.self, from: body)
            // `record` is not a fault: absent, the recording stays as it is.
            let record = try JSONDecoder().decode(SimulatorAnswer.RecordSwitch.self, from: body).record
            state.faults.withLock { $0 = settings }
            if let record { state.record(record) }
            logger.info("fault settings changed", metadata: [
                "latency_ms": "\(settings.latencyMs)", "error_rate": "\(settings.errorRate)", "outage": "\(settings.outage)",
                "accept_then_fail_rate": "\(settings.acceptThenFailRate)", "record": "\(state.recording.rawValue)",
            ])
            return Self.json(.ok, SimulatorAnswer.Control(faults: settings, record: state.recording))
        } catch {
            return Self.json(.badRequest, SimulatorAnswer.Failure(code: "invalid_control", message: "\(error)"))
        }
    }

    func statsResponse() -> Response {
        // Read only scalars under the lock: copying the per-message maps would make the next
        // delivery copy them all (copy-on-write), which hurts at a million messages.
        let stats = state.stats.withLock { stats in
            SimulatorAnswer.Stats(
                calls: stats.calls, acceptedCalls: stats.acceptedCalls, rejectedCalls: stats.rejectedCalls,
                recipients: stats.recipients, acceptedMessages: stats.acceptedMessages, uniqueMessages: stats.uniqueMessages,
                duplicateDeliveries: stats.duplicates, inflight: stats.inflight, largestBatch: stats.largestBatch,
                lastCallAt: stats.lastCallAt, lostAnswers: stats.lostAnswers, lostAnswerMessages: stats.lostAnswerMessages,
                record: stats.recording)
        }
        return Self.json(.ok, stats)
    }

    static func json(_ status: HTTPResponse.Status, _ body: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(body)) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
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
