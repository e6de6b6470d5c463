import Foundation

/// What a provider call meant for one message.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The provider took it; keep its id so webhooks can be matched.
    case accepted(providerMessageID: String?)
    /// Try again later (timeout, connection error, 5xx, 429), perhaps on another provider.
    case retryable(reason: String, retryAfter: Double?)
    /// This message can never be sent as it is (bad recipient, rejected content).
    case rejected(reason: String)
    /// No account could take it now through no fault of the message (a circuit open, an account
    /// paced after a 429, no account at all): it waits until `until`, no attempt counted, and
    /// never dead-letters for it.
    case waiting(reason: String, until: Date)
}

extension DeliveryOutcome {
    /// True when another attempt may succeed: on the next provider of the chain now, or later.
    public var isRetryable: Bool {
        if case .retryable = self { return true }
        return false
    }

    /// True when the message goes on to the next account of its chain: it failed retryably
    /// or this account could not take it now.
    public var movesOn: Bool {
        switch self {
        case .retryable, .waiting: return true
        case .accepted, .rejected: return false
        }
    }
}

/// A recipient the provider refused while it accepted the message for the others (an SMTP
/// server answering one RCPT TO with 550 while taking the rest).
public struct RecipientRefusal: Sendable, Equatable {
    /// The refused address.
    public var address: String
    /// The provider's reply code (an SMTP code such as 550 or 451).
    public var code: Int
    /// The provider's reply text.
    public var reply: String

    /// Creates a refusal.
    public init(address: String, code: Int, reply: String) {
        self.address = address
        self.code = code
        self.reply = reply
    }

    /// True for a permanent refusal (5xx); a temporary one (4xx) would have succeeded later.
    public var permanent: Bool { code >= 500 }
}

/// How a whole provider response is to be read, before per-message details.
public enum ResponseClass: Sendable, Equatable {
    /// 2xx: accepted.
    case accepted
    /// Timeout, connection failure, 5xx, 429 (with the Retry-After seconds if given).
    case retryable(retryAfter: Double?)
    /// 401/403 and similar: the account itself is misconfigured; counts against the account
    /// and the batch moves on to the next provider.
    case accountFailure
    /// Other 4xx: the request (so its messages) is refused.
    case rejected
}

/// Reads provider HTTP statuses the same way for every provider.
public enum ResponseClassifier {
    /// Classifies a status code and the Retry-After header.
    public static func classify(status: Int, retryAfter: String?) -> ResponseClass {
        switch status {
        case 200..<300: return .accepted
        case 429: return .retryable(retryAfter: retryAfter.flatMap { parseRetryAfter($0) })
        case 408, 425, 500..<600: return .retryable(retryAfter: retryAfter.flatMap { parseRetryAfter($0) })
        case 401, 403: return .accountFailure
        default: return .rejected
        }
    }

    /// Retry-After is either delta-seconds or an HTTP date.
    public static func parseRetryAfter(_ value: String, now: Date = Date()) -> Double? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(trimmed), seconds >= 0 { return seconds }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
