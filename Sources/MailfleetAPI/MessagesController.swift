import Crypto
import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// `POST /v1/messages`, `GET /v1/messages` (a page, optionally of one status),
/// `GET /v1/messages/{id}`, `POST /v1/messages/{id}/retry` (re-drive a failed message) and the
/// cancellation routes (`MessagesController+Cancel`).
public struct MessagesController: Sendable {
    let pipeline: AcceptPipeline
    let store: MessageStore
    /// Where a retried message goes, as accepted ones do through the pipeline.
    let queue: MessageQueue
    let templates: TemplateStore
    let suppressions: SuppressionLookup
    let limits: APILimits

    /// Adds the routes to the `/v1` group.
    public func addRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.post("messages") { request, context in try await self.create(request, context: context) }
        v1.get("messages/{id}") { request, context in try await self.show(request, context: context) }
        v1.get("messages") { request, context in try await self.list(request, context: context) }
        v1.post("messages/{id}/retry") { request, context in try await self.retry(request, context: context) }
        addCancelRoutes(to: v1)
    }

    /// Decode, plan (`SubmissionPlan`), commit through the accept pipeline, answer.
    func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        let body = Data(buffer: try await request.collectBody(limit: limits.maxBodyBytes))
        let idempotencyKey = try Self.idempotencyKey(request.headers)
        let (isBatch, items) = try Self.decode(body, limits: limits)

        let templateIDs = SubmissionPlan.templateIDs(in: items)
        let found = templateIDs.isEmpty ? [:] : try await database { try await templates.latest(tenantID: key.tenantID, ids: Array(templateIDs)) }
        var plan = SubmissionPlan(items: items, isBatch: isBatch, tenantID: key.tenantID, templates: found, limits: limits.message, now: Date())
        if let refusal = plan.refusal { throw APIError.invalid(refusal) }
        let recipients = plan.recipients(normalised: SuppressionStore.normalised)
        let suppressed = try await database { try await suppressions.suppressed(tenantID: key.tenantID, among: recipients) }
        plan.suppress(suppressed, normalised: SuppressionStore.normalised)

        let status = HTTPResponse.Status(code: plan.status)
        let answer = plan.body
        let messages = plan.messages
        if messages.isEmpty && idempotencyKey == nil { return Self.json(status, answer) }
        // The hash only tells a replay from a different request under the same key.
        let hash = idempotencyKey == nil ? "" : Hex.encode(SHA256.hash(data: body))
        let accept = AcceptRequest(
            tenantID: key.tenantID, idempotencyKey: idempotencyKey, requestHash: hash, responseStatus: plan.status, responseBody: answer,
            messages: messages)
        let result = try await database(unavailable: "the message could not be stored; nothing was accepted, retry shortly") { try await pipeline.submit(accept) }
        switch result {
        case .created:
            return Self.json(status, answer)
        case .replay(let same, let storedStatus, let storedBody):
            guard same else {
                throw APIError(.unprocessableContent, code: "idempotency_key_reused", message: "this Idempotency-Key was used with a different request body", field: "Idempotency-Key")
            }
            await pipeline.enqueueAgain(replayed: storedBody, tenantID: key.tenantID)
            var response = Self.json(HTTPResponse.Status(code: storedStatus), storedBody)
            response.headers[.init("Idempotent-Replayed")!] = "true"
            return response
        case .overQuota(let refusal):
            throw APIError.quotaExceeded(refusal, now: Date())
        }
    }

    /// The `Idempotency-Key` header, if given: 1 to 255 bytes on one line.
    static func idempotencyKey(_ headers: HTTPFields) throws(APIError) -> String? {
        guard let value = headers[.init("Idempotency-Key")!] else { return nil }
        guard !value.isEmpty, value.utf8.count <= 255, !value.containsLineBreakOrNUL else {
            throw APIError(.badRequest, code: "invalid_idempotency_key", message: "Idempotency-Key must be 1 to 255 printable characters", field: "Idempotency-Key")
        }
        return value
    }

    /// The items of a submission body, each decoded or failed on its own. Valid bodies go
    /// through the plain byte reader (profiles put `JSONDecoder` at 40 % of the API's time);
    /// anything else through `Decodable`, which alone gives the precise errors.
    static func decode(_ body: Data, limits: APILimits) throws(APIError) -> (isBatch: Bool, items: [Result<MessageSubmission, FieldError>]) {
        let parsed: SubmissionBody
        do {
            parsed = try SubmissionBody.plain(body) ?? JSONDecoder().decode(SubmissionBody.self, from: body)
        } catch let error as DecodingError {
            throw APIError(decoding: error)
        } catch {
            throw APIError.invalidJSON
        }
        switch parsed {
        case .single(let item):
            return (false, [item.result])
        case .batch(let items):
            if items.isEmpty {
                throw APIError(.unprocessableContent, code: "empty_batch", message: "messages must hold at least one message", field: "messages")
            }
            if items.count > limits.maxBatchMessages {
                throw APIError(.contentTooLarge, code: "too_many_messages", message: "a batch holds at most \(limits.maxBatchMessages) messages", field: "messages")
            }
            return (true, items.map(\.result))
        }
    }

    func show(_ request: Request, context: APIRequestContext) async throws -> MessageView {
        let key = try context.key(for: .read)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("message") }
        guard let record = try await database({ try await store.message(id: id, tenantID: key.tenantID) }) else {
            throw APIError.notFound("message")
        }
        return MessageView(record)
    }

    /// A page of the tenant's messages, newest first: `status` narrows it (`failed` lists the
    /// tenant's dead letters), `limit` sizes it (1 to 1,000, default 100), `after` continues
    /// from a previous page's `next`.
    func list(_ request: Request, context: APIRequestContext) async throws -> MessagePage {
        let key = try context.key(for: .read)
        let query = request.uri.queryParameters
        let limit = try PageLimit.read(query.get("limit"), default: 100)
        var status: MessageStatus?
        if let text = query.get("status") {
            guard let value = MessageStatus(rawValue: text) else {
                throw APIError.invalidParameter("status", "status is one of \(MessageStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            status = value
        }
        var cursor: MessageCursor?
        if let text = query.get("after") {
            guard let value = MessageCursor(text: text) else { throw APIError.invalidParameter("after", "after must be the next of a previous page") }
            cursor = value
        }
        let page = try await database { try await store.messages(tenantID: key.tenantID, status: status, after: cursor, limit: limit) }
        return MessagePage(messages: page.map { MessagePage.Item($0.record) }, next: page.count == limit ? page.last?.cursor.text : nil)
    }

    /// Re-drives a failed message, as `mailfleet dlq redrive` does: 202 once it is queued again
    /// (attempts reset, its error kept in a `redriven` event), 409 `not_failed` for a message in
    /// any other status, 404 for one the tenant does not have.
    func retry(_ request: Request, context: APIRequestContext) async throws -> EditedResponse<QueuedMessage> {
        let key = try context.key(for: .send)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("message") }
        let outcome = try await database { try await store.retry(messageID: id, tenantID: key.tenantID, actor: "api:\(key.keyID)") }
        switch outcome {
        case .notFound:
            throw APIError.notFound("message")
        case .notFailed(let status):
            throw APIError(.conflict, code: "not_failed", message: "only a failed message can be retried; this one is \(status.rawValue)")
        case .redriven(let item):
            do {
                try await queue.enqueue([item])
            } catch {
                // Committed as queued: reconciliation enqueues it, as after an accept whose enqueue failed.
                context.logger.error("enqueue after retry failed", metadata: ["error": "\(error)", "message_id": "\(id.lowercasedString)"])
            }
            return EditedResponse(status: .accepted, response: QueuedMessage(id: id.lowercasedString, status: MessageStatus.queued.rawValue))
        }
    }

    /// A JSON answer already written (the submission answer, or a stored one being replayed).
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
    /// Largest body of the other endpoints (templates, suppressions, previews): a template of
    /// three 256 KB parts, or preview variables, with slack. Default 4 MB.
    public var maxSmallBodyBytes = 4 * 1024 * 1024
    /// The defaults.
    public init() {}
}
