/// Why a message bounced, in the classes senders act on: the address is wrong, the mailbox is
/// full, the sender is blocked, the content was refused, a policy refused it, something broke
/// on the way, or nobody can tell.
public enum BounceClass: String, Sendable, Equatable, CaseIterable {
    /// No such user or domain.
    case invalidAddress = "invalid_address"
    /// Over quota.
    case mailboxFull = "mailbox_full"
    /// The sender's IP or domain is blocked or listed.
    case reputation
    /// The message was refused for what it contains (spam, virus, size).
    case content
    /// Refused by a rule: DMARC/SPF/DKIM, not authorised, suppressed by the provider.
    case policy
    /// DNS, connection, TLS or a server error on the way.
    case technical
    /// Nothing says which.
    case unclassified

    /// Classifies a refusal from its enhanced status code (RFC 3463, e.g. `5.1.1`), its basic
    /// SMTP code and its text. The enhanced code decides when it is specific; the text decides
    /// otherwise, since many servers answer `5.0.0` or `550` with the reason only in words.
    public static func classify(status: String? = nil, smtpCode: Int? = nil, text: String? = nil) -> BounceClass {
        let words = (text ?? "").lowercased()
        if let status = enhanced(status) ?? enhanced(firstEnhancedCode(in: words)) {
            switch (status.subject, status.detail) {
            case (1, 1), (1, 2), (1, 3), (1, 6), (1, 10), (2, 1): return .invalidAddress
            case (2, 2), (3, 1): return .mailboxFull
            case (3, 4), (6, _): return .content
            case (7, 1) where matches(words, reputationWords): return .reputation
            case (7, 1) where matches(words, contentWords): return .content
            case (7, _): return .policy
            case (4, _), (5, _): return .technical
            default: break
            }
        }
        if matches(words, invalidAddressWords) { return .invalidAddress }
        if matches(words, mailboxFullWords) { return .mailboxFull }
        if matches(words, reputationWords) { return .reputation }
        if matches(words, contentWords) { return .content }
        if matches(words, policyWords) { return .policy }
        if matches(words, technicalWords) { return .technical }
        if let smtpCode, smtpCode == 552 { return .mailboxFull }
        if let smtpCode, smtpCode == 421 || smtpCode == 451 { return .technical }
        return .unclassified
    }

    static let invalidAddressWords = [
        "user unknown", "unknown user", "no such user", "does not exist", "doesn't exist", "invalid recipient", "recipient unknown",
        "mailbox not found", "mailbox unavailable", "address rejected", "no mailbox", "unknown recipient", "not a valid", "invalid address",
        "bad destination", "no such recipient", "unrouteable address", "address not found",
    ]
    static let mailboxFullWords = ["mailbox full", "mailbox is full", "over quota", "quota exceeded", "exceeded storage", "insufficient storage", "out of storage"]
    static let reputationWords = ["blacklist", "blocklist", "block list", "listed", "spamhaus", "reputation", "blocked", "poor reputation", "rbl"]
    static let contentWords = ["spam", "virus", "malware", "content", "attachment", "message too large", "message size", "phish"]
    static let policyWords = ["policy", "dmarc", "spf", "dkim", "not authorized", "not authorised", "relay", "denied", "suppress"]
    static let technicalWords = ["timeout", "timed out", "connection", "dns", "tls", "temporarily", "try again", "loop", "network"]

    static func matches(_ words: String, _ phrases: [String]) -> Bool {
        phrases.contains { words.contains($0) }
    }

    /// `(class, subject, detail)` of an enhanced status code, or nil.
    static func enhanced(_ text: String?) -> (klass: Int, subject: Int, detail: Int)? {
        guard let text else { return nil }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let k = Int(parts[0]), let s = Int(parts[1]), let d = Int(parts[2]), k == 4 || k == 5 || k == 2 else { return nil }
        return (k, s, d)
    }

    /// The first `4.x.x` or `5.x.x` in a server's reply text.
    static func firstEnhancedCode(in text: String) -> String? {
        for word in text.split(whereSeparator: { $0 == " " || $0 == ";" || $0 == "," || $0 == "(" || $0 == ")" }) {
            if let code = enhanced(String(word)), code.klass != 2 { return String(word) }
        }
        return nil
    }
}
