extension ProviderAccount {
    /// The tracker path this account's provider posts its webhooks to, or nil for kinds that
    /// post none (outbox, SMTP). docs/TRACKING.md says what to configure at each provider.
    public var webhookPath: String? {
        switch kind {
        case .sendgrid, .mailgun, .ses, .postmark: return "/webhooks/\(kind.rawValue)/\(id.lowercasedString)"
        case .outbox, .smtp: return nil
        }
    }

    /// The full webhook URL under the tracker's public base URL. Postmark signs nothing, so its
    /// URL carries the basic-auth credentials the tracker checks (`mailfleet:<webhook secret>`).
    public func webhookURL(trackerBaseURL: String) -> String? {
        guard let path = webhookPath else { return nil }
        var base = trackerBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        if kind == .postmark, let secret = webhookSecret, let schemeEnd = base.range(of: "://") {
            base.insert(contentsOf: "mailfleet:\(secret)@", at: schemeEnd.upperBound)
        }
        return base + path
    }
}

extension ProviderAccount {
    /// A new random webhook secret (256 bits, hex), for providers that sign nothing (Postmark)
    /// or whose signing key we choose.
    public static func generateWebhookSecret() -> String {
        var rng = SystemRandomNumberGenerator()
        return Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
