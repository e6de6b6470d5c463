import Foundation
import Hummingbird
import MailfleetCore
import MailfleetStore

/// Cancellation: `DELETE /v1/messages/{id}` and `POST /v1/messages/{id}/cancel` (the same),
/// and `POST /v1/batches/{batch_id}/cancel`. See `MessageStore+Cancel` for the race with a
/// worker's claim.
extension MessagesController {
    /// Adds the cancellation routes to the `/v1` group.
    func addCancelRoutes(to v1: RouterGroup<APIRequestContext>) {
        v1.delete("messages/{id}") { request, context in try await self.cancel(request, context: context) }
        v1.post("messages/{id}/cancel") { request, context in try await self.cancel(request, context: context) }
        v1.post("batches/{batch_id}/cancel") { request, context in try await self.cancelBatch(request, context: context) }
    }

    /// 200 with the message, now `cancelled`; 202 `cancel_requested` when a worker has it (the
    /// outcome follows: `cancelled`, or `sent` if its provider call had started); 409
    /// `not_cancellable` once it is finished; 404 for a message the tenant does not have.
    func cancel(_ request: Request, context: APIRequestContext) async throws -> Response {
        let key = try context.key(for: .send)
        guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else { throw APIError.notFound("message") }
        let outcome = try await database { try await store.cancel(messageID: id, tenantID: key.tenantID, actor: "api:\(key.keyID)") }
        switch outcome {
        case .notFound:
            throw APIError.notFound("message")
        case .notCancellable(let status):
            throw APIError.notCancellable(status)
        case .requested:
            return try EditedResponse(status: .accepted, response: CancelRequested(id: id.lowercasedString)).response(from: request, context: context)
        case .cancelled(let item):
            await forget([item], context: context)
            guard let record = try await database({ try await store.message(id: id, tenantID: key.tenantID) }) else { throw APIError.notFound("message") }
            return try MessageView(record).response(from: request, context: context)
        }
    }

    /// Cancels the batch's still-queued messages and asks for the cancellation of those a worker
    /// has: 200 with how many were cancelled, requested and past cancelling; 404 when the tenant
    /// has no message with this batch id.
    func cancelBatch(_ request: Request, context: APIRequestContext) async throws -> BatchCancelled {
        let key = try context.key(for: .send)
        // The router leaves path segments percent-encoded; a client may encode `:`.
        guard let batchID = context.parameters.get("batch_id")?.removingPercentEncoding, BatchID.isValid(batchID) else {
            throw APIError.invalidParameter("batch_id", BatchID.rule)
        }
        let result = try await database { try await store.cancel(batchID: batchID, tenantID: key.tenantID, actor: "api:\(key.keyID)") }
        guard !result.cancelled.isEmpty || result.requested > 0 || result.notCancellable > 0 else { throw APIError.notFound("batch") }
        await forget(result.cancelled, context: context)
        return BatchCancelled(batchID: batchID, cancelled: result.cancelled.count, cancelRequested: result.requested, notCancellable: result.notCancellable)
    }

    /// Drops cancelled messages from the delayed sets so they stop counting as pending; a
    /// failure only leaves entries the workers' claim refuses.
    private func forget(_ items: [MessageQueue.Item], context: APIRequestContext) async {
        do {
            try await queue.forget(items)
        } catch {
            context.logger.warning("dropping cancelled messages from the queue failed; workers drop them when fetched", metadata: ["error": "\(error)", "messages": "\(items.count)"])
        }
    }
}

extension APIError {
    /// 409 for a message that is finished.
    static func notCancellable(_ status: MessageStatus) -> APIError {
        let why = status == .cancelled ? "it is already cancelled" : "it is already \(status.rawValue)"
        return APIError(.conflict, code: "not_cancellable", message: "only a message not yet sent can be cancelled; \(why)")
    }
}

/// The answer of `POST /v1/batches/{batch_id}/cancel`.
struct BatchCancelled: ResponseEncodable, Equatable {
    var batchID: String
    /// Messages cancelled by this call.
    var cancelled: Int
    /// Messages a worker has, asked to be cancelled: each ends cancelled, or sent if its provider call had started.
    var cancelRequested: Int
    /// Messages of the batch already sent, finished or cancelled before.
    var notCancellable: Int

    enum CodingKeys: String, CodingKey {
        case batchID = "batch_id", cancelled, cancelRequested = "cancel_requested", notCancellable = "not_cancellable"
    }
}

/// The answer of a cancel that reached a message a worker has: `202` with
/// `{"id", "status": "cancel_requested"}`; the message's own status shows the outcome.
struct CancelRequested: ResponseEncodable, Equatable {
    var id: String
    var status = "cancel_requested"
}
