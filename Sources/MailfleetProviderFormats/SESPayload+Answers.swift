import MailfleetCore

extension SESPayload {
    /// Entry statuses that say the account (not the message) cannot send.
    public static let accountStatuses: Set<String> = [
        "ACCOUNT_SUSPENDED", "ACCOUNT_SENDING_PAUSED", "MAIL_FROM_DOMAIN_NOT_VERIFIED", "CONFIGURATION_SET_NOT_FOUND",
        "CONFIGURATION_SET_SENDING_PAUSED", "TEMPLATE_NOT_FOUND", "INVALID_SENDING_POOL_NAME",
    ]

    /// Classifies one `BulkEmailEntryResult`.
    public static func entryResult(status: String, error: String?, messageID: String?) -> MessageResult {
        let reason = "ses \(status)" + (error.map { ": \($0)" } ?? "")
        switch status {
        case "SUCCESS": return .accepted(messageID: messageID)
        case "MESSAGE_REJECTED", "INVALID_PARAMETER": return .rejected(reason: reason)
        case _ where accountStatuses.contains(status) || status.hasPrefix("CONFIGURATION_SET_"): return .accountFailure(reason: reason)
        // ACCOUNT_THROTTLED, ACCOUNT_DAILY_QUOTA_EXCEEDED, TRANSIENT_FAILURE, FAILED, and any
        // status we do not know: the message was not sent, so trying again is safe.
        default: return .retryable(reason: reason)
        }
    }

    /// The results of a 200 `SendBulkEmail` answer, one per entry in order; nil when they cannot
    /// be matched (not that shape, another count, an entry without a status).
    public static func bulkResults(_ body: [UInt8], count: Int) -> [MessageResult]? {
        guard let answer = PayloadJSON.decode(BulkAnswer.self, from: body), answer.results.count == count else { return nil }
        return answer.results.map { entryResult(status: $0.status, error: $0.error, messageID: $0.messageID) }
    }

    /// SES's id for a message accepted by `SendEmail` (`{"MessageId": "..."}`), or nil.
    public static func messageID(inAnswer body: [UInt8]) -> String? {
        PayloadJSON.decode(SendAnswer.self, from: body)?.messageID
    }

    /// The error type of an SES error answer: the `x-amzn-ErrorType` header (before any colon)
    /// when there is one, else the body's `__type` or `code`.
    public static func errorType(header: String?, body: [UInt8]) -> String? {
        if let header {
            return String(header.split(separator: ":").first ?? Substring(header))
        }
        let answer = PayloadJSON.decode(ErrorAnswer.self, from: body)
        return answer?.type ?? answer?.code
    }

    /// The outcome of a 4xx answer whose error type says the account cannot send
    /// (`accountErrorTypes`): every message retryable and an account failure, so the batch
    /// fails over. Nil for any other answer.
    public static func accountFailure(status: Int, errorType: String?, messages: [RenderedMessage]) -> BatchOutcome? {
        guard (400..<500).contains(status), let errorType, accountErrorTypes.contains(errorType) else { return nil }
        return .all(messages, .retryable(reason: "ses \(status) \(errorType)", retryAfter: nil), accountFailure: "ses \(errorType)", status: status)
    }

    // MARK: Answer shapes (fields of an unexpected type read as absent)

    /// The body of a 200 `SendBulkEmail` answer.
    struct BulkAnswer: Decodable {
        var results: [EntryResult]
        enum CodingKeys: String, CodingKey { case results = "BulkEmailEntryResults" }

        /// One `BulkEmailEntryResult`; its `Status` is required.
        struct EntryResult: Decodable {
            var status: String
            var error: String?
            var messageID: String?

            enum CodingKeys: String, CodingKey { case status = "Status", error = "Error", messageID = "MessageId" }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
                status = try container.decode(String.self, forKey: .status)
                error = try? container.decodeIfPresent(String.self, forKey: .error)
                messageID = try? container.decodeIfPresent(String.self, forKey: .messageID)
            }
        }
    }

    /// The body of a 200 `SendEmail` answer.
    struct SendAnswer: Decodable {
        var messageID: String?
        enum CodingKeys: String, CodingKey { case messageID = "MessageId" }

        init(from decoder: any Decoder) throws {
            messageID = try? decoder.container(keyedBy: CodingKeys.self).decodeIfPresent(String.self, forKey: .messageID)
        }
    }

    /// The body of an error answer.
    struct ErrorAnswer: Decodable {
        var type: String?
        var code: String?
        enum CodingKeys: String, CodingKey { case type = "__type", code }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            code = try? container.decodeIfPresent(String.self, forKey: .code)
        }
    }
}
