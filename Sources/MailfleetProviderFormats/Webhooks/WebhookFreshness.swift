import Foundation

/// The freshness rule every signed webhook shares: its signing time must be within `tolerance`
/// of now, either way (clocks differ a little; a captured request replayed later does not).
public struct WebhookFreshness: Sendable, Equatable {
    /// How far the signing time may be from now.
    public var tolerance: TimeInterval

    /// Creates the rule; five minutes is what the providers' own SDK examples use.
    public init(tolerance: TimeInterval = 300) {
        self.tolerance = tolerance
    }

    /// Refuses a signing time (Unix seconds as text, as SendGrid and Mailgun send it) outside the window.
    public func check(unixSeconds text: String, now: Date) throws(WebhookRejection) {
        guard let seconds = Double(text), seconds.isFinite else { throw WebhookRejection(.malformed, "timestamp \(text.prefix(32)) is not a number") }
        try check(Date(timeIntervalSince1970: seconds), now: now)
    }

    /// Refuses a signing time outside the window.
    public func check(_ signedAt: Date, now: Date) throws(WebhookRejection) {
        let age = now.timeIntervalSince(signedAt)
        guard abs(age) <= tolerance else {
            throw WebhookRejection(.stale, "signed \(Int(age)) s from now, tolerance \(Int(tolerance)) s")
        }
    }
}
