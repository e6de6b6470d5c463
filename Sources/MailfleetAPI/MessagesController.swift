import Crypto
import Foundation
import Hummingbird
import Logging
import MailfleetCore
import MailfleetObservability
import MailfleetStore

/// `POST /v1/messages` and `GET /v1/messages/{id}`.
public struct MessagesController: Sendable {
    let authenticator: Authenticator
    let pipeline: AcceptPipeline
    let store: MessageStore
    let templates: TemplateStore
    let suppressions: SuppressionLookup
    let limits: APILimits

    /// Adds the routes to a router.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.post("/v1/messages") { request, context in try await self.create(request, context: context) }
        router.get("/v1/messages/{id}") { request, context in try await self.show(request, context: context) }
    }

    func create(_ request: Request, context: some RequestContext) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .send)
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limits.maxBodyBytes)
        } catch {
            throw APIError(.contentTooLarge, code: "body_too_large", message: "request bodies are limited to \(limits.maxBodyBytes) bytes")
        }
        let body = Data(buffer: buffer)
        let idempotencyKey = request.headers[.init("Idempotency-Key")!]
        if let idempotencyKey, idempotencyKey.isEmpty || idempotencyKey.utf8.count > 255 || idempotencyKey.containsLineBreakOrNUL {
            throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1 to 255 printable characters", field: "Idempotency-Key")
        }

        let parsed: SubmissionBody
        do {
            parsed = try SubmissionBody.plain(body) ?? JSONDecoder().decode(SubmissionBody.self, from: body)
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty {
                throw APIError(.badRequest, code: "invalid_json", message: "the body is not valid JSON")
            }
            let fieldError = FieldError(decoding: error)
            throw APIError(fieldError.code == "unknown_field" ? .unprocessableContent : .badRequest, code: fieldError.code, message: fieldError.message, field: fieldError.field)
        }

        let isBatch: Bool
        let items: [SubmissionItem]
        switch parsed {
        case .single(let item): (isBatch, items) = (false, [item])
        case .batch(let list): (isBatch, items) = (true, list)
        }
        if isBatch && items.isEmpty {
            throw APIError(.unprocessableContent, code: "empty_batch", message: "messages must hold at least one message", field: "messages")
        }
        if items.count > limits.maxBatchMessages {
            throw APIError(.contentTooLarge, code: "too_many_messages", message: "a batch holds at most \(limits.maxBatchMessages) messages", field: "messages")
        }

        let now = Date()
        let submissions = try await renderTemplates(items.map(\.result), tenantID: key.tenantID)
        var outcomes: [Result<Message, FieldError>] = []
        for submission in submissions {
            switch submission {
            case .failure(let error): outcomes.append(.failure(error))
            case .success(let submission):
                if let problem = submission.validate(limits: limits.message).first {
                    outcomes.append(.failure(problem))
                } else {
                    let priority = submission.priority ?? (isBatch ? .bulk : .transactional)
                    let sendAt = submission.sendAt.flatMap { $0 > now ? $0 : nil }
                    outcomes.append(.success(Message(
                        id: UUID.timeOrdered(at: now), tenantID: key.tenantID, priority: priority, status: .queued, content: submission.content,
                        sendAt: sendAt, createdAt: now)))
                }
            }
        }
        let suppressedRecipients = try await applySuppressions(&outcomes, tenantID: key.tenantID)

        var messages: [Message] = []
        var entries: [String] = []
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let message):
                messages.append(message)
                entries.append("{\"index\":\(index),\(Self.acceptedFields(message, suppressed: suppressedRecipients[message.id] ?? []))}")
            case .failure(let problem):
                if !isBatch { throw APIError.invalid(problem) }
                entries.append("{\"index\":\(index),\"error\":\(APIError.body(code: problem.code, message: problem.message, field: problem.field).dropFirst(9).dropLast())}")
            }
        }

        let status: HTTPResponse.Status
        let responseBody: String
        if isBatch {
            status = messages.isEmpty ? .unprocessableContent : .accepted
            responseBody = "{\"accepted\":\(messages.count),\"rejected\":\(items.count - messages.count),\"messages\":[\(entries.joined(separator: ","))]}"
        } else {
            status = .accepted
            responseBody = "{\(Self.acceptedFields(messages[0], suppressed: suppressedRecipients[messages[0].id] ?? []))}"
        }
        if messages.isEmpty && idempotencyKey == nil {
            return Self.json(status, responseBody)
        }

        // The hash only tells a replay from a different request under the same key.
        let hash = idempotencyKey == nil ? "" : Hex.encode(SHA256.hash(data: body))
        let accept = AcceptRequest(
            tenantID: key.tenantID, idempotencyKey: idempotencyKey, requestHash: hash, responseStatus: Int(status.code),
            responseBody: responseBody, messages: messages)
        let result: AcceptResult
        do {
            result = try await pipeline.submit(accept)
        } catch {
            throw APIError.unavailable("the message could not be stored; nothing was accepted, retry shortly")
        }
        switch result {
        case .created:
            return Self.json(status, responseBody)
        case .replay(let same, let storedStatus, let storedBody):
            guard same else {
                throw APIError(.unprocessableContent, code: "idempotency_key_reused", message: "this Idempotency-Key was used with a different request body", field: "Idempotency-Key")
            }
            var response = Self.json(HTTPResponse.Status(code: storedStatus), storedBody)
            response.headers[.init("Idempotent-Replayed")!] = "true"
            return response
        }
    }

    /// `"id":...,"status":...` and the recipients left out because they are suppressed.
    static func acceptedFields(_ message: Message, suppressed: [String]) -> String {
        var out = "\"id\":\"\(message.id.lowercasedString)\",\"status\":\"\(message.status.rawValue)\""
        if !suppressed.isEmpty { out += ",\"suppressed_recipients\":[\(suppressed.map(JSONString.quote).joined(separator: ","))]" }
        return out
    }

    /// Renders the items that name a template (one query for all templates of the request).
    /// Rendering happens at accept time: the stored message is final, so later template edits
    /// or deletion never change mail already accepted, and render errors answer this request.
    func renderTemplates(_ items: [Result<MessageSubmission, FieldError>], tenantID: UUID) async throws -> [Result<MessageSubmission, FieldError>] {
        let ids = Set(items.compactMap { (try? $0.get())?.templateID })
        guard !ids.isEmpty else { return items }
        let found: [UUID: MessageTemplate]
        do {
            found = try await templates.latest(tenantID: tenantID, ids: Array(ids))
        } catch {
            throw APIError.unavailable("the database is not reachable; retry shortly")
        }
        return items.map { item in
            guard case .success(var submission) = item, let id = submission.templateID else { return item }
            guard let template = found[id] else {
                return .failure(FieldError(code: "template_not_found", field: "template_id", message: "no template \(id.lowercasedString)"))
            }
            do {
                submission.apply(try template.render(variables: submission.variables ?? .object([:])))
                return .success(submission)
            } catch let error as TemplateError {
                return .failure(FieldError(code: "template_render_failed", field: "template_id", message: "\(error.field): \(error.message)"))
            } catch {
                return .failure(FieldError(code: "template_render_failed", field: "template_id", message: "\(error)"))
            }
        }
    }

    /// Enforces the tenant's suppression list (one query for the whole request): suppressed
    /// recipients are dropped from cc and bcc and to; a message left with nobody in `to` is
    /// stored as `suppressed` and never enqueued. Returns the dropped addresses per message.
    func applySuppressions(_ outcomes: inout [Result<Message, FieldError>], tenantID: UUID) async throws -> [UUID: [String]] {
        var addresses = Set<String>()
        for case .success(let message) in outcomes {
            for recipient in message.content.allRecipients { addresses.insert(SuppressionStore.normalised(recipient)) }
        }
        let suppressed: Set<String>
        do {
            suppressed = try await suppressions.suppressed(tenantID: tenantID, among: Array(addresses))
        } catch {
            throw APIError.unavailable("the database is not reachable; retry shortly")
        }
        guard !suppressed.isEmpty else { return [:] }
        var dropped: [UUID: [String]] = [:]
        for index in outcomes.indices {
            guard case .success(var message) = outcomes[index] else { continue }
            let isSuppressed = { (address: EmailAddress) in suppressed.contains(SuppressionStore.normalised(address)) }
            let hits = message.content.allRecipients.filter(isSuppressed)
            guard !hits.isEmpty else { continue }
            dropped[message.id] = hits.map(SuppressionStore.normalised)
            if message.content.to.allSatisfy(isSuppressed) {
                message.status = .suppressed
            } else {
                message.content.to.removeAll(where: isSuppressed)
                message.content.cc.removeAll(where: isSuppressed)
                message.content.bcc.removeAll(where: isSuppressed)
            }
            outcomes[index] = .success(message)
        }
        return dropped
    }

    func show(_ request: Request, context: some RequestContext) async throws -> Response {
        let key = try await authenticator.authenticate(request, scope: .read)
        guard let idText = context.parameters.get("id"), let id = UUID(uuidString: idText) else {
            throw APIError.notFound("message")
        }
        let record: MessageRecord?
        do {
            record = try await store.message(id: id, tenantID: key.tenantID)
        } catch {
            throw APIError.unavailable("the database is not reachable; retry shortly")
        }
        guard let record else { throw APIError.notFound("message") }
        return Self.json(.ok, MessageView.json(record))
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// Size limits of the API.
public struct APILimits: Sendable {
    /// Largest request body. Default 32 MB.
    public var maxBodyBytes = 32 * 1024 * 1024
    /// Most messages in one batch request. Default 1,000.
    public var maxBatchMessages = 1000
    /// Per-message limits.
    public var message = MessageLimits()
    /// The defaults.
    public init() {}
}

/// The JSON shape of a message for `GET /v1/messages/{id}`.
enum MessageView {
    static func json(_ record: MessageRecord) -> String {
        let m = record.message
        var fields: [String] = [
            "\"id\":\"\(m.id.lowercasedString)\"",
            "\"status\":\"\(m.status.rawValue)\"",
            "\"priority\":\"\(m.priority.rawValue)\"",
            "\"attempts\":\(m.attempts)",
            "\"from\":\(JSONString.quote(m.content.from.description))",
            "\"to\":[\(m.content.to.map { JSONString.quote($0.description) }.joined(separator: ","))]",
            "\"subject\":\(JSONString.quote(m.content.subject))",
            "\"created_at\":\"\(ISO8601.format(m.createdAt))\"",
            "\"updated_at\":\"\(ISO8601.format(record.updatedAt))\"",
        ]
        if let sendAt = m.sendAt { fields.append("\"send_at\":\"\(ISO8601.format(sendAt))\"") }
        if let sentAt = record.sentAt { fields.append("\"sent_at\":\"\(ISO8601.format(sentAt))\"") }
        if let error = record.lastError { fields.append("\"last_error\":\(JSONString.quote(error))") }
        if let pmid = record.providerMessageID { fields.append("\"provider_message_id\":\(JSONString.quote(pmid))") }
        let events = record.events.map {
            "{\"type\":\"\($0.type)\",\"at\":\"\(ISO8601.format($0.occurredAt))\",\"detail\":\($0.detail)}"
        }
        fields.append("\"events\":[\(events.joined(separator: ","))]")
        return "{" + fields.joined(separator: ",") + "}"
    }
}
