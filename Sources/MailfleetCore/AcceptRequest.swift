import Foundation

/// One API request's worth of messages to commit.
public struct AcceptRequest: Sendable {
    /// The tenant sending.
    public var tenantID: UUID
    /// The caller's Idempotency-Key, if given.
    public var idempotencyKey: String?
    /// A hash of the request body, to tell a replay from a different request with the same key.
    public var requestHash: String
    /// The status the response will carry (stored for replays).
    public var responseStatus: Int
    /// The response body (stored for replays).
    public var responseBody: String
    /// The messages to insert.
    public var messages: [Message]

    /// Creates a request.
    public init(tenantID: UUID, idempotencyKey: String?, requestHash: String, responseStatus: Int, responseBody: String, messages: [Message]) {
        self.tenantID = tenantID
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.responseStatus = responseStatus
        self.responseBody = responseBody
        self.messages = messages
    }
}
