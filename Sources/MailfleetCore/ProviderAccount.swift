import Foundation

/// The kinds of provider Mailfleet can send through.
public enum ProviderKind: String, Sendable, Codable, CaseIterable {
    /// Writes RFC 5322 `.eml` files into a folder: the default for local runs.
    case outbox
    /// SendGrid v3 `/v3/mail/send`.
    case sendgrid
    /// Mailgun `/v3/{domain}/messages` with recipient-variables.
    case mailgun
    /// Postmark `/email/batch`.
    case postmark
    /// Amazon SES v2, signed with SigV4: `SendBulkEmail` with an inline template for messages
    /// that share a body, raw `SendEmail` otherwise.
    case ses
    /// SMTP submission through libcurl (`smtp://` with STARTTLS, or `smtps://`).
    case smtp

    /// Most messages one provider call may carry.
    public var batchLimit: Int {
        switch self {
        case .outbox: return 1000
        case .sendgrid: return 1000
        case .mailgun: return 1000
        case .postmark: return 500
        // SendBulkEmail takes at most 50 entries (one per message).
        case .ses: return 50
        // One message per SMTP transaction; connections are reused across transactions.
        case .smtp: return 1
        }
    }

    /// The endpoint used when an account names none (SES derives it from the region).
    public var defaultEndpoint: String? {
        switch self {
        case .outbox: return nil
        case .sendgrid: return "https://api.sendgrid.com"
        case .mailgun: return "https://api.mailgun.net"
        case .postmark: return "https://api.postmarkapp.com"
        case .ses, .smtp: return nil
        }
    }
}

/// One provider account of a tenant; a tenant's accounts ordered by `priority` form its chain.
public struct ProviderAccount: Sendable, Hashable, Identifiable {
    /// The account id.
    public var id: UUID
    /// The tenant owning it.
    public var tenantID: UUID
    /// A name unique within the tenant, e.g. `sendgrid-main`.
    public var name: String
    /// What kind of provider it is.
    public var kind: ProviderKind
    /// An endpoint override (a simulator, a gateway), or the provider's own.
    public var endpoint: String?
    /// Lower goes first in the chain.
    public var priority: Int
    /// The credential (API key, password). Never logged, never returned by an API.
    public var secret: String?
    /// Provider settings that are not secret, e.g. `domain` (Mailgun), `region` (SES, Mailgun),
    /// `message_stream` (Postmark).
    public var config: [String: String]
    /// What the provider's webhooks are checked with: SendGrid's verification key, Mailgun's
    /// signing key, Postmark's basic-auth password (docs/TRACKING.md). Never logged.
    public var webhookSecret: String?

    /// Creates an account.
    public init(
        id: UUID, tenantID: UUID, name: String, kind: ProviderKind, endpoint: String?, priority: Int, secret: String?,
        config: [String: String] = [:], webhookSecret: String? = nil
    ) {
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.kind = kind
        self.endpoint = endpoint
        self.priority = priority
        self.secret = secret
        self.config = config
        self.webhookSecret = webhookSecret
    }

    /// The endpoint to call: the override, else the provider's default (for SES and a Mailgun
    /// account in the EU region, derived from `config["region"]`).
    public var effectiveEndpoint: String? {
        if let endpoint { return endpoint }
        switch kind {
        case .ses: return "https://email.\(config["region"] ?? "us-east-1").amazonaws.com"
        case .mailgun where config["region"]?.lowercased() == "eu": return "https://api.eu.mailgun.net"
        default: return kind.defaultEndpoint
        }
    }
}

extension ProviderAccount: CustomStringConvertible {
    // Never print the secret.
    public var description: String { "\(kind.rawValue):\(name)(\(id))" }
}
