import MailfleetCore

/// How an SMTP reply code reads for one message.
public enum SMTPReplyClass: Sendable, Equatable {
    /// 2xx: the server took the message.
    case accepted
    /// 4xx (and anything unexpected): a transient failure; try again.
    case retryable
    /// 530/534/535/538: authentication required or refused, so the account is at fault.
    case accountFailure
    /// Other 5xx (e.g. 550 recipient refused, 552, 554): permanent for this message.
    case rejected

    /// Classifies a final reply code.
    public static func classify(_ code: Int) -> SMTPReplyClass {
        switch code {
        case 200..<300: return .accepted
        case 530, 534, 535, 538: return .accountFailure
        case 500..<600: return .rejected
        default: return .retryable
        }
    }

    /// What a transaction's reply means for its message, reading each recipient's RCPT TO reply
    /// (`replies`, in the order sent; `recipients` is how many RCPT TO the message needed):
    ///
    /// - the server took the message (a 2xx final `code`): accepted, and every refused recipient
    ///   is reported (the message reached the others);
    /// - the server refused every recipient (the transaction ended before DATA): rejected when
    ///   every refusal is permanent (5xx), an account failure when one is an authentication
    ///   reply (530, 534, 535, 538), otherwise retryable (some recipient may take it later);
    /// - anything else (MAIL FROM or DATA refused, AUTH failed, a libcurl that stops at the
    ///   first refused recipient): classified by the final code, `detail` quoted in the reason.
    public static func outcome(
        code: Int, detail: String, replies: [(address: String, code: Int, text: String)], recipients: Int, providerMessageID: String
    ) -> (outcome: DeliveryOutcome, accountFailure: String?, refusals: [RecipientRefusal]) {
        let refused = replies.filter { classify($0.code) != .accepted }
        if classify(code) == .accepted {
            return (.accepted(providerMessageID: providerMessageID), nil, refused.map { RecipientRefusal(address: $0.address, code: $0.code, reply: $0.text) })
        }
        if recipients > 0, replies.count == recipients, refused.count == recipients {
            let reason = "smtp: every recipient refused: " + refused.map { "\($0.address) \($0.code) \($0.text)" }.joined(separator: "; ")
            if let auth = refused.first(where: { classify($0.code) == .accountFailure }) {
                return (.retryable(reason: reason, retryAfter: nil), "smtp \(auth.code)", [])
            }
            if refused.allSatisfy({ classify($0.code) == .rejected }) { return (.rejected(reason: reason), nil, []) }
            return (.retryable(reason: reason, retryAfter: nil), nil, [])
        }
        let reason = "smtp \(code): \(detail)"
        switch classify(code) {
        case .accepted, .retryable: return (.retryable(reason: reason, retryAfter: nil), nil, [])
        case .accountFailure: return (.retryable(reason: reason, retryAfter: nil), "smtp \(code)", [])
        case .rejected: return (.rejected(reason: reason), nil, [])
        }
    }
}
